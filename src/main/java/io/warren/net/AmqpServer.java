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
