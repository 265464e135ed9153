package io.warren.it.flow;

import com.rabbitmq.client.ConnectionFactory;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.SocketFactory;

/**
 * Controls how fast a client takes bytes from its socket, to play a stuck or a slow consumer over
 * a real TCP connection: {@link #pause()} stops the client's reads (the kernel's buffers fill and
 * the broker's writes stall), {@link #limit(long)} lets through at most so many bytes a second,
 * {@link #open()} reads at full speed. Install it with {@link #on(ConnectionFactory)}; the client's
 * reader thread blocks in the gate, any test thread steers it.
 */
final class ReadGate {
    /** The client's receive buffer: small, so that a stall reaches the broker after little data. */
    private static final int RECEIVE_BUFFER = 64 * 1024;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean paused;
    /** Bytes a second; 0 is no limit. */
    private long rate;
    /** When the current rate began, and the bytes let through since. */
    private long rateStart;
    private long rateBytes;
    private long total;

    /** A factory whose connections read through this gate. */
    ConnectionFactory on(ConnectionFactory factory) {
        factory.setSocketFactory(new SocketFactory() {
            @Override
            public Socket createSocket() throws SocketException {
                return gated();
            }

            @Override
            public Socket createSocket(String host, int port) {
                throw new UnsupportedOperationException("the client creates unconnected sockets");
            }

            @Override
            public Socket createSocket(String host, int port, java.net.InetAddress local, int localPort) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Socket createSocket(java.net.InetAddress host, int port) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Socket createSocket(java.net.InetAddress host, int port, java.net.InetAddress local, int localPort) {
                throw new UnsupportedOperationException();
            }
        });
        return factory;
    }

    void pause() {
        set(true, 0);
    }

    void limit(long bytesPerSecond) {
        set(false, bytesPerSecond);
    }

    void open() {
        set(false, 0);
    }

    /** Bytes the client has taken from its socket so far. */
    long total() {
        lock.lock();
        try {
            return total;
        } finally {
            lock.unlock();
        }
    }

    private void set(boolean paused, long rate) {
        lock.lock();
        try {
            this.paused = paused;
            this.rate = rate;
            this.rateStart = System.nanoTime();
            this.rateBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the gate lets bytes through; returns how many the next read may take. */
    private int admit(int wanted) throws InterruptedIOException {
        lock.lock();
        try {
            while (true) {
                if (!paused && rate == 0) {
                    return wanted;
                }
                if (!paused) {
                    long allowed = rate * (System.nanoTime() - rateStart) / 1_000_000_000L - rateBytes;
                    if (allowed > 0) {
                        return (int) Math.min(wanted, Math.min(allowed, Math.max(1, rate / 20)));
                    }
                }
                // Paused: wait for a change. Limited: also wait for the next few milliseconds' allowance.
                if (paused) {
                    changed.await();
                } else {
                    changed.await(10, TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted at the read gate");
        } finally {
            lock.unlock();
        }
    }

    private void took(int n) {
        if (n <= 0) {
            return;
        }
        lock.lock();
        try {
            rateBytes += n;
            total += n;
        } finally {
            lock.unlock();
        }
    }

    private Socket gated() throws SocketException {
        Socket socket = new Socket() {
            private InputStream in;

            @Override
            public synchronized InputStream getInputStream() throws IOException {
                if (in == null) {
                    in = new FilterInputStream(super.getInputStream()) {
                        @Override
                        public int read() throws IOException {
                            byte[] one = new byte[1];
                            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                        }

                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            int n = super.read(b, off, admit(len));
                            took(n);
                            return n;
                        }
                    };
                }
                return in;
            }
        };
        socket.setReceiveBufferSize(RECEIVE_BUFFER);
        return socket;
    }
}
