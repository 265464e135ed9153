"""Send a batch and exit, with pika (the most used Python client): publish as fast as the client
takes messages, close at once, and check that the close completes and every message arrived.

    AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2F python3 burst_then_close.py

Exits 0 when both the blocking and the asynchronous (SelectConnection) API close cleanly.
"""
import os
import sys
import uuid

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
COUNT = 5000


def blocking():
    queue = "pika.burst." + uuid.uuid4().hex[:8]
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.queue_declare(queue)
    for i in range(COUNT):
        ch.basic_publish("", queue, b"m%d" % i)
    conn.close()
    expect_all_in(queue, "blocking")


def expect_all_in(queue, what):
    """Every message published must be in the queue; deletes it."""
    check = pika.BlockingConnection(pika.URLParameters(URL))
    count = check.channel().queue_declare(queue, passive=True).method.message_count
    check.channel().queue_delete(queue)
    check.close()
    if count != COUNT:
        raise AssertionError("%s: %d of %d messages in the queue" % (what, count, COUNT))


def asynchronous():
    queue = "pika.burst-async." + uuid.uuid4().hex[:8]
    outcome = {}

    def on_open(conn):
        conn.channel(on_open_callback=lambda ch: ch.queue_declare(queue, callback=lambda _: publish(conn, ch)))

    def publish(conn, ch):
        for i in range(COUNT):
            ch.basic_publish("", queue, b"m%d" % i)
        conn.close()

    def on_closed(conn, reason):
        outcome["reason"] = reason
        conn.ioloop.stop()

    conn = pika.SelectConnection(pika.URLParameters(URL), on_open_callback=on_open,
                                 on_open_error_callback=lambda c, e: on_closed(c, e),
                                 on_close_callback=on_closed)
    timer = conn.ioloop.call_later(10, lambda: (outcome.setdefault("reason", "timed out"), conn.ioloop.stop()))
    conn.ioloop.start()
    conn.ioloop.remove_timeout(timer)
    reason = outcome.get("reason")
    if not isinstance(reason, pika.exceptions.ConnectionClosedByClient):
        raise AssertionError("async: the close did not complete cleanly: %r" % (reason,))
    expect_all_in(queue, "async")


if __name__ == "__main__":
    failed = 0
    for test in (blocking, asynchronous):
        try:
            test()
            print("ok    pika %s %s" % (pika.__version__, test.__name__))
        except Exception as e:  # report every failure, then exit non-zero
            failed += 1
            print("FAIL  pika %s: %r" % (test.__name__, e))
    print("pika: %d passed, %d failed" % (2 - failed, failed))
    sys.exit(1 if failed else 0)
