'use strict';
// The RabbitMQ tutorials' logic, run with Node amqplib against the broker at AMQP_URL.
// Each step opens its own connection, uses names unique to this run, has its own timeout,
// and cleans up after itself. Exits 0 only if every step passed.
//
//   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 node run-all.js [step ...]

const amqp = require('amqplib');
const callbackApi = require('amqplib/callback_api');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_MS || 10000);
const RUN = crypto.randomBytes(4).toString('hex');
const name = (what) => `node.${what}.${RUN}`;

/** Resolves with the first `count` values pushed, or rejects after `ms`. */
function collector(count, ms = 5000) {
  const values = [];
  let done;
  const promise = new Promise((resolve, reject) => {
    done = resolve;
    setTimeout(() => reject(new Error(`got ${values.length} of ${count}: ${JSON.stringify(values)}`)), ms).unref();
  });
  promise.catch(() => {}); // a step that fails before awaiting it must not crash the run
  return {
    values,
    promise,
    push(v) {
      values.push(v);
      if (values.length === count) done(values);
    },
  };
}

/** Gives a step a fresh connection, and closes it however the step ends. */
async function withConnection(fn) {
  const conn = await amqp.connect(URL);
  conn.on('error', (err) => console.log(`      connection error: ${err.message}`));
  try {
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Publishes until the channel's buffer is full, then closes the connection: the close must complete. */
async function burst(openChannel) {
  const q = name('burst');
  const conn = await amqp.connect(URL);
  const errors = [];
  conn.on('error', (err) => errors.push(err.message));
  const ch = await openChannel(conn);
  await ch.assertQueue(q, { autoDelete: false });
  let n = 0;
  while (ch.sendToQueue(q, Buffer.from(`m${n}`))) n++;
  assert.ok(n > 100, `only ${n} publishes fit the client's buffer`);
  await conn.close();
  assert.deepEqual(errors, []);
  await deleteQueue(q);
}

async function deleteQueue(q) {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel();
    await ch.deleteQueue(q);
  });
}

const steps = {
  // Tutorial 1: one producer, one consumer, the default exchange.
  async helloWorld() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const q = name('hello');
      await ch.assertQueue(q, { durable: false, autoDelete: true });
      const got = collector(1);
      await ch.consume(q, (msg) => got.push(msg.content.toString()), { noAck: true });
      ch.sendToQueue(q, Buffer.from('Hello World!'));
      assert.deepEqual(await got.promise, ['Hello World!']);
    });
  },

  // Tutorial 2: a durable work queue, persistent messages, prefetch 1 and manual acks
  // shared by two workers; no worker ever holds more than one unacked message.
  async workQueue() {
    await withConnection(async (conn) => {
      const producer = await conn.createChannel();
      const q = name('task_queue');
      await producer.assertQueue(q, { durable: true });
      const total = 20;
      const got = collector(total);
      const perWorker = [0, 0];
      let maxInFlight = 0;
      let notPersistent = 0;
      for (const w of [0, 1]) {
        const ch = await conn.createChannel();
        await ch.prefetch(1);
        let inFlight = 0;
        await ch.consume(q, (msg) => {
          if (msg === null) return; // basic.cancel from the broker: the queue is deleted at the end
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          if (msg.properties.deliveryMode !== 2) notPersistent++;
          perWorker[w]++;
          setTimeout(() => {
            inFlight--;
            ch.ack(msg);
            got.push(msg.content.toString());
          }, 2);
        }, { noAck: false });
      }
      for (let i = 0; i < total; i++) {
        producer.sendToQueue(q, Buffer.from(`task ${i}`), { persistent: true });
      }
      const tasks = await got.promise;
      assert.deepEqual([...tasks].sort(), Array.from({ length: total }, (_, i) => `task ${i}`).sort());
      assert.ok(perWorker[0] > 0 && perWorker[1] > 0, `both workers got work: ${perWorker}`);
      assert.equal(maxInFlight, 1, 'a worker held more than one unacked message with prefetch 1');
      assert.equal(notPersistent, 0, 'deliveries lost their persistent delivery mode');
      const { messageCount } = await producer.checkQueue(q);
      assert.equal(messageCount, 0);
      await producer.deleteQueue(q);
    });
  },

  // Tutorial 3: a fanout exchange copies each message to every bound exclusive queue.
  async fanout() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const ex = name('logs');
      await ch.assertExchange(ex, 'fanout', { durable: false });
      const got = collector(4);
      for (const who of ['a', 'b']) {
        const { queue } = await ch.assertQueue('', { exclusive: true });
        assert.match(queue, /^amq\.gen-/);
        await ch.bindQueue(queue, ex, '');
        await ch.consume(queue, (msg) => got.push(`${who}:${msg.content}`), { noAck: true });
      }
      ch.publish(ex, '', Buffer.from('one'));
      ch.publish(ex, 'ignored', Buffer.from('two'));
      assert.deepEqual((await got.promise).sort(), ['a:one', 'a:two', 'b:one', 'b:two']);
      await ch.deleteExchange(ex);
    });
  },

  // Tutorial 4: a direct exchange routes by exact key; a queue may bind several keys.
  async direct() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const ex = name('direct_logs');
      await ch.assertExchange(ex, 'direct', { durable: false });
      const bindings = { disk: ['error'], console: ['info', 'warning', 'error'] };
      const got = collector(4);
      for (const [who, keys] of Object.entries(bindings)) {
        const { queue } = await ch.assertQueue('', { exclusive: true });
        for (const key of keys) await ch.bindQueue(queue, ex, key);
        await ch.consume(queue, (msg) => got.push(`${who}:${msg.fields.routingKey}:${msg.content}`), { noAck: true });
      }
      for (const severity of ['debug', 'info', 'warning', 'error']) {
        ch.publish(ex, severity, Buffer.from(`a ${severity}`));
      }
      assert.deepEqual((await got.promise).sort(), [
        'console:error:a error', 'console:info:a info', 'console:warning:a warning', 'disk:error:a error',
      ]);
      await ch.deleteExchange(ex);
    });
  },

  // Tutorial 5: a topic exchange with * (one word) and # (zero or more words).
  async topic() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const ex = name('topic_logs');
      await ch.assertExchange(ex, 'topic', { durable: false });
      const bindings = { q1: ['*.orange.*'], q2: ['*.*.rabbit', 'lazy.#'] };
      const keys = [
        'quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox', 'lazy.brown.fox',
        'lazy.pink.rabbit', 'quick.brown.fox', 'orange', 'quick.orange.new.rabbit', 'lazy.orange.new.rabbit', 'lazy',
      ];
      const expected = [
        'q1:quick.orange.rabbit', 'q2:quick.orange.rabbit', 'q1:lazy.orange.elephant', 'q2:lazy.orange.elephant',
        'q1:quick.orange.fox', 'q2:lazy.brown.fox', 'q2:lazy.pink.rabbit', 'q2:lazy.orange.new.rabbit', 'q2:lazy',
      ];
      const got = collector(expected.length);
      for (const [who, patterns] of Object.entries(bindings)) {
        const { queue } = await ch.assertQueue('', { exclusive: true });
        for (const p of patterns) await ch.bindQueue(queue, ex, p);
        await ch.consume(queue, (msg) => got.push(`${who}:${msg.fields.routingKey}`), { noAck: true });
      }
      for (const key of keys) ch.publish(ex, key, Buffer.from(key));
      assert.deepEqual((await got.promise).sort(), [...expected].sort());
      await ch.deleteExchange(ex);
    });
  },

  // Tutorial 6: RPC over direct reply-to (amq.rabbitmq.reply-to), correlated by correlationId.
  async rpc() {
    await withConnection(async (conn) => {
      const server = await conn.createChannel();
      const q = name('rpc_queue');
      await server.assertQueue(q, { durable: false, autoDelete: true });
      await server.prefetch(1);
      const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
      const replyTos = [];
      await server.consume(q, (msg) => {
        replyTos.push(msg.properties.replyTo);
        const n = parseInt(msg.content.toString(), 10);
        server.sendToQueue(msg.properties.replyTo, Buffer.from(String(fib(n))), {
          correlationId: msg.properties.correlationId,
        });
        server.ack(msg);
      });

      const client = await conn.createChannel();
      const pending = new Map();
      await client.consume('amq.rabbitmq.reply-to', (msg) => {
        const resolve = pending.get(msg.properties.correlationId);
        pending.delete(msg.properties.correlationId);
        resolve(msg.content.toString());
      }, { noAck: true });
      const call = (n) => new Promise((resolve) => {
        const id = crypto.randomUUID();
        pending.set(id, resolve);
        client.sendToQueue(q, Buffer.from(String(n)), { correlationId: id, replyTo: 'amq.rabbitmq.reply-to' });
      });
      assert.deepEqual(await Promise.all([call(10), call(20), call(1)]), ['55', '6765', '1']);
      for (const r of replyTos) assert.match(r, /^amq\.rabbitmq\.reply-to\./);
    });
  },

  // Publisher confirms: every publish is confirmed; a mandatory unroutable message is
  // returned (312 NO_ROUTE) before its confirm; waitForConfirms resolves.
  async confirms() {
    await withConnection(async (conn) => {
      const ch = await conn.createConfirmChannel();
      const q = name('confirms');
      await ch.assertQueue(q, { durable: true });
      const events = [];
      ch.on('return', (msg) => events.push(`return:${msg.fields.replyCode}:${msg.fields.replyText}:${msg.content}`));
      const confirmed = [];
      const nacked = [];
      for (let i = 0; i < 50; i++) {
        ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, (err) => (err ? nacked : confirmed).push(i));
      }
      const unroutable = new Promise((resolve, reject) => {
        ch.publish('', name('nowhere'), Buffer.from('lost'), { mandatory: true }, (err) => {
          if (err) reject(err);
          events.push('confirm');
          resolve();
        });
      });
      await ch.waitForConfirms();
      await unroutable;
      assert.deepEqual(nacked, []);
      assert.deepEqual(confirmed, Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(events, ['return:312:NO_ROUTE:lost', 'confirm']);
      assert.equal((await ch.checkQueue(q)).messageCount, 50);
      await ch.deleteQueue(q);
    });
  },

  // Beyond the tutorials: headers and exchange-to-exchange routing, get/nack/recover/purge,
  // cancel, and a body larger than frame_max (split into several body frames both ways).
  async extras() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const hx = name('headers');
      const ex = name('front');
      await ch.assertExchange(hx, 'headers', { durable: false, autoDelete: false });
      await ch.assertExchange(ex, 'fanout', { durable: false });
      await ch.bindExchange(hx, ex, '');
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, hx, '', { 'x-match': 'all', format: 'pdf', type: 'report' });
      ch.publish(ex, '', Buffer.from('match'), { headers: { format: 'pdf', type: 'report', extra: 1 } });
      ch.publish(ex, '', Buffer.from('no match'), { headers: { format: 'pdf' } });

      const big = crypto.randomBytes(300 * 1024);
      ch.sendToQueue(queue, big);

      let first = false;
      for (let i = 0; i < 100 && !first; i++) {
        first = await ch.get(queue, { noAck: false });
        if (!first) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(first, 'basic.get found nothing');
      assert.equal(first.content.toString(), 'match');
      assert.equal(first.fields.messageCount, 1);
      ch.nack(first, false, true);
      const again = await ch.get(queue, { noAck: false });
      assert.equal(again.content.toString(), 'match');
      assert.equal(again.fields.redelivered, true);
      ch.ack(again);

      const got = collector(1);
      const { consumerTag } = await ch.consume(queue, (msg) => msg && got.push(msg.content), { noAck: true });
      const [received] = await got.promise;
      assert.ok(received.equals(big), `large body differs: ${received.length} bytes`);
      await ch.cancel(consumerTag);

      ch.sendToQueue(queue, Buffer.from('a'));
      ch.sendToQueue(queue, Buffer.from('b'));
      await ch.checkQueue(queue); // a round trip, so both publishes are in
      assert.equal((await ch.purgeQueue(queue)).messageCount, 2);
      await ch.unbindExchange(hx, ex, '');
      await ch.deleteExchange(hx);
      await ch.deleteExchange(ex);
      ch.on('error', () => {}); // the 404 below closes the channel, as expected
      await assert.rejects(ch.checkExchange(ex), (err) => err.code === 404);
    });
  },

  // Errors come back as channel closes with RabbitMQ's codes, and the connection survives.
  // "Send a batch and exit": publish until the client's buffer is full, then close at once.
  // amqplib writes connection.close ahead of the publishes still in its buffer; the close must
  // complete (close-ok arrives, no ECONNRESET/EPIPE) with the promise API, on a confirm channel,
  // and with the callback API.
  async burstThenClose() {
    await burst((conn) => conn.createChannel());
  },

  async burstThenCloseOnAConfirmChannel() {
    await burst((conn) => conn.createConfirmChannel());
  },

  async burstThenCloseWithCallbacks() {
    const q = name('burst-cb');
    await new Promise((resolve, reject) => {
      callbackApi.connect(URL, (err, conn) => {
        if (err) return reject(err);
        conn.on('error', reject);
        conn.createChannel((err2, ch) => {
          if (err2) return reject(err2);
          ch.assertQueue(q, { autoDelete: false }, (err3) => {
            if (err3) return reject(err3);
            let n = 0;
            while (ch.sendToQueue(q, Buffer.from(`m${n}`))) n++;
            conn.close((err4) => (err4 ? reject(err4) : resolve()));
          });
        });
      });
    });
    await deleteQueue(q);
  },

  async errors() {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await assert.rejects(ch.checkQueue(name('missing')), (err) => err.code === 404 && /NOT_FOUND/.test(err.message));
      const ch2 = await conn.createChannel();
      ch2.on('error', () => {});
      const q = name('inequivalent');
      await ch2.assertQueue(q, { durable: false, autoDelete: true });
      await assert.rejects(ch2.assertQueue(q, { durable: true }), (err) => err.code === 406 && /PRECONDITION_FAILED/.test(err.message));
      const ch3 = await conn.createChannel();
      await ch3.deleteQueue(q);
    });
  },
};

function amqplibVersion() {
  const path = require('node:path');
  const dir = path.dirname(require.resolve('amqplib'));
  return JSON.parse(require('node:fs').readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? wanted : Object.keys(steps);
  let passed = 0;
  let failed = 0;
  console.log(`amqplib ${amqplibVersion()} against ${URL.replace(/\/\/[^@]*@/, '//')}`);
  for (const step of selected) {
    const started = Date.now();
    try {
      if (!steps[step]) throw new Error(`no step named ${step}`);
      await withTimeout(steps[step](), STEP_TIMEOUT_MS, step);
      passed++;
      console.log(`ok    ${step} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${step} (${Date.now() - started} ms): ${err && err.stack ? err.stack : err}`);
    }
  }
  console.log(`amqplib: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
