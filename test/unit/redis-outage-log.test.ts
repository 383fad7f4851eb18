import { expect } from 'chai';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { RedisOutageLog } from '../../shared/queue/redis-outage-log.js';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

describe('RedisOutageLog', () => {
  it('when many connections fail many times within one interval, then one line is written per interval', async () => {
    const { lines, log } = capture();
    let now = 0;
    const outage = new RedisOutageLog(log, 'redis://127.0.0.1:6379/0', 2000, () => now);
    for (now = 0; now < 7000; now += 100)
      for (let c = 0; c < 4; c++) expect(outage.report(refused())).to.equal(true);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).to.deep.equal(
      [0, 2, 4, 6].map(
        (s) =>
          `Redis at redis://127.0.0.1:6379/0 is unreachable (ECONNREFUSED) for ${s} s; retrying every 2 s (set REDIS_URL if it lives elsewhere)`,
      ),
    );
  });

  it('when Redis answers again, then one line says so and the next outage is reported from its own start', async () => {
    const { lines, log } = capture();
    let now = 0;
    const outage = new RedisOutageLog(log, 'r', 2000, () => now);
    outage.report(refused());
    now = 500;
    outage.recovered();
    outage.recovered();
    now = 600;
    outage.report(refused());
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).to.deep.equal([
      'Redis at r is unreachable (ECONNREFUSED) for 0 s; retrying every 2 s (set REDIS_URL if it lives elsewhere)',
      'Redis at r answers again',
      'Redis at r is unreachable (ECONNREFUSED) for 0 s; retrying every 2 s (set REDIS_URL if it lives elsewhere)',
    ]);
  });

  it('when the error is not Redis being unreachable, then it is left to the caller', () => {
    const { lines, log } = capture();
    const outage = new RedisOutageLog(log, 'r', 2000);
    expect(outage.report(new Error('ERR unknown command'))).to.equal(false);
    expect(lines).to.deep.equal([]);
  });
});
