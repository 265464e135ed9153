package io.warren.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SelectStrategyFactory;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The TCP listener: one acceptor thread and {@code io_threads} event loops for connections (epoll on
 * Linux, NIO elsewhere), which poll briefly before they sleep ({@link SpinningSelectStrategy}). Each
 * connection's pipeline is the send timeout, the frame decoder, then the AMQP handler.
 */
public final class AmqpServer implements AutoCloseable {
    /**
     * Bytes a connection's outbound buffer may hold (written, not yet taken by the kernel) before the
     * connection stops being writable, and stops being given deliveries, until it is down to the low mark.
     */
    private static final int WRITE_HIGH_WATER_MARK = 1024 * 1024;
    private static final int WRITE_LOW_WATER_MARK = 512 * 1024;

    /**
     * The largest TCP segment Warren sends, set on the listening socket so every connection inherits
     * it. It changes nothing on real networks (Ethernet's 1,460 bytes, jumbo frames' 8,960) and
     * matters on loopback, whose 65,536-byte MTU makes segments of 64 KiB: a client with a 128 KiB
     * receive buffer (PerfTest's, the Java client's default) can then open its window only a whole
     * segment at a time, so after it fills the window stays shut until the sender's zero-window probe,
     * 200 ms or more later, and deliveries stop for that long, many times a second under load
     * (bench/README.md, "loopback"). With 16 KiB segments the window reopens as the client reads.
     */
    private static final int MAX_SEGMENT_SIZE = 16 * 1024;
    /** Linux's {@code setsockopt(IPPROTO_TCP, TCP_MAXSEG)}, which Netty has no named option for. */
    private static final IntegerUnixChannelOption TCP_MAXSEG = new IntegerUnixChannelOption("TCP_MAXSEG", 6, 2);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Class<? extends ServerSocketChannel> channelClass;
    private Channel listener;

    /**
     * @param ioThreads event loops for connections
     * @param spinMicros how long a loop with nothing to do polls its sockets before it sleeps (0: at once)
     */
    public AmqpServer(int ioThreads, int spinMicros) {
        SelectStrategyFactory strategy = spinMicros > 0
                ? () -> new SpinningSelectStrategy(TimeUnit.MICROSECONDS.toNanos(spinMicros))
                : DefaultSelectStrategyFactory.INSTANCE;
        if (Epoll.isAvailable()) {
            boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("warren-accept"));
            workers = new EpollEventLoopGroup(ioThreads, new DefaultThreadFactory("warren-io"), strategy);
            channelClass = EpollServerSocketChannel.class;
        } else {
            boss = new NioEventLoopGroup(1, new DefaultThreadFactory("warren-accept"));
            workers = new NioEventLoopGroup(ioThreads, new DefaultThreadFactory("warren-io"),
                    SelectorProvider.provider(), strategy);
            channelClass = NioServerSocketChannel.class;
        }
    }

    /** Binds and returns the bound port; {@code handler} makes each connection's AMQP handler. */
    public int bind(String address, int port, int initialFrameMax, long sendTimeoutMillis, Supplier<ChannelHandler> handler)
            throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(WRITE_LOW_WATER_MARK, WRITE_HIGH_WATER_MARK))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("send-timeout", new SendTimeout(sendTimeoutMillis));
                        ch.pipeline().addLast("frames", new FrameDecoder(initialFrameMax));
                        ch.pipeline().addLast("amqp", handler.get());
                    }
                });
        if (Epoll.isAvailable()) {
            bootstrap.option(TCP_MAXSEG, MAX_SEGMENT_SIZE);
        }
        listener = bootstrap.bind(new InetSocketAddress(address, port)).sync().channel();
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
