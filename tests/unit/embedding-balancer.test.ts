import { describe, expect, it } from "vitest";
import { Balancer, PROBE_FIRST_MS, PROBE_MAX_MS, type Clock, type Upstream } from "@/lib/embedding/balancer";

/** A clock the test moves by hand: timers run only when `advance` passes their time. */
class FakeClock implements Clock {
  t = 0;
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private nextId = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  get pending() {
    return this.timers.length;
  }
  /** Moves time forward, running each due timer at its time and letting the promises it starts settle. */
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

interface Fake {
  alive: boolean;
}

function setup(n: number) {
  const clock = new FakeClock();
  const targets: Fake[] = Array.from({ length: n }, () => ({ alive: true }));
  const probes: { url: string; at: number }[] = [];
  const changes: string[] = [];
  const balancer = new Balancer(
    targets.map((target, i) => ({ url: `http://e${i}`, target })),
    {
      clock,
      probe: async (target, url) => {
        probes.push({ url, at: clock.now() });
        return target.alive;
      },
      onChange: (url, state) => changes.push(`${url} ${state}`),
    },
  );
  return { clock, targets, probes, changes, balancer };
}

const urlOf = (u: Upstream<Fake>) => u.url;

describe("balancing order", () => {
  it("takes turns between idle instances (ties round-robin)", () => {
    const { balancer } = setup(3);
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      const u = balancer.acquire();
      order.push(urlOf(u));
      balancer.succeeded(u, 5);
    }
    expect(order).toEqual(["http://e0", "http://e1", "http://e2", "http://e0", "http://e1", "http://e2", "http://e0"]);
  });

  it.each([
    // Calls held open, then which instance the next call goes to.
    { name: "the one with no call in flight", held: [0, 1], expected: "http://e2" },
    { name: "the least loaded when all are busy", held: [0, 0, 1, 2, 2], expected: "http://e1" },
    { name: "round-robin among the least loaded", held: [0, 1, 2], expected: "http://e0" },
  ])("sends a call to $name", ({ held, expected }) => {
    const { balancer } = setup(3);
    // Hold a call open on each instance listed (the others marked tried, so the choice falls on it).
    for (const want of held) {
      const u = balancer.choose(new Set([0, 1, 2].filter((i) => i !== want)));
      expect(u.index).toBe(want);
      balancer.start(u);
    }
    // Even the cursor position should not matter for a strict minimum.
    expect(urlOf(balancer.acquire())).toBe(expected);
  });

  it("a retry avoids the instances this call already tried, even the least loaded", () => {
    const { balancer } = setup(3);
    const busy = balancer.acquire(); // e0 busy
    expect(busy.index).toBe(0);
    expect(balancer.choose(new Set([1])).url).toBe("http://e2");
    expect(balancer.choose(new Set([1, 2])).url).toBe("http://e0");
    // All tried: back to the pool as a whole (the caller backs off first).
    expect(["http://e1", "http://e2"]).toContain(balancer.choose(new Set([0, 1, 2])).url);
  });
});

describe("ejection and return, on a fake clock", () => {
  it.each([
    { why: "connection refused", ejects: true },
    { why: "timed out", ejects: true },
    { why: "HTTP 503", ejects: true },
    { why: "HTTP 429 (busy, not broken)", ejects: false },
  ])("$why: ejected = $ejects", ({ why, ejects }) => {
    const { balancer } = setup(2);
    const u = balancer.acquire();
    balancer.failed(u, ejects, why);
    const snap = balancer.snapshot()[0]!;
    expect(snap).toMatchObject({ state: ejects ? "ejected" : "up", failures: 1, ejections: ejects ? 1 : 0, outstanding: 0, requests: 1 });
    const next = [0, 1, 2, 3].map(() => {
      const x = balancer.acquire();
      balancer.succeeded(x, 1);
      return x.index;
    });
    if (ejects) expect(next).toEqual([1, 1, 1, 1]);
    else expect(next).toContain(0);
  });

  it("probes an ejected instance after 1 s, doubling to 30 s, and takes it back when a probe answers", async () => {
    const { balancer, clock, targets, probes, changes } = setup(2);
    targets[0]!.alive = false;
    balancer.failed(balancer.acquire(), true, "connection refused");
    await clock.advance(PROBE_FIRST_MS - 1);
    expect(probes).toEqual([]);
    await clock.advance(1 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 30_000 + 30_000);
    const gaps = probes.map((p, i) => p.at - (i === 0 ? 0 : probes[i - 1]!.at));
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, PROBE_MAX_MS, PROBE_MAX_MS]);
    expect(balancer.snapshot()[0]!.state).toBe("ejected");

    targets[0]!.alive = true;
    await clock.advance(PROBE_MAX_MS);
    expect(balancer.snapshot()[0]!.state).toBe("up");
    expect(changes).toEqual(["http://e0 ejected", "http://e0 up"]);
    // Back in rotation, and no probe left running.
    expect(clock.pending).toBe(0);
    const seen = new Set([0, 1, 2, 3].map(() => {
      const x = balancer.acquire();
      balancer.succeeded(x, 1);
      return x.index;
    }));
    expect(seen).toEqual(new Set([0, 1]));
  });

  it("a second ejection starts the probes at 1 s again", async () => {
    const { balancer, clock, targets, probes } = setup(2);
    targets[0]!.alive = false;
    balancer.failed(balancer.acquire(), true, "HTTP 502");
    await clock.advance(1_000 + 2_000 + 4_000);
    targets[0]!.alive = true;
    await clock.advance(8_000);
    expect(balancer.snapshot()[0]!.state).toBe("up");
    const before = probes.length;
    balancer.failed(balancer.acquire(new Set([1])), true, "HTTP 502");
    const ejectedAt = clock.now();
    await clock.advance(1_000);
    expect(probes.slice(before).map((p) => p.at - ejectedAt)).toEqual([1_000]);
    expect(balancer.snapshot()[0]).toMatchObject({ state: "up", ejections: 2 });
  });

  it("with every instance ejected, calls go to all of them again (panic), and an answer brings one back at once", async () => {
    const { balancer, clock } = setup(2);
    balancer.failed(balancer.acquire(), true, "refused");
    balancer.failed(balancer.acquire(), true, "refused");
    expect(balancer.snapshot().map((s) => s.state)).toEqual(["ejected", "ejected"]);
    const u = balancer.acquire();
    balancer.succeeded(u, 3);
    expect(balancer.snapshot()[u.index]!.state).toBe("up");
    // Its probe was cancelled; the other's still runs.
    expect(clock.pending).toBe(1);
  });

  it("close() stops probing", async () => {
    const { balancer, clock, probes } = setup(2);
    balancer.failed(balancer.acquire(), true, "refused");
    balancer.close();
    await clock.advance(60_000);
    expect(probes).toEqual([]);
  });
});

describe("figures", () => {
  it("counts requests, failures, calls in flight and the round trips' p50/p99 per instance", () => {
    const { balancer } = setup(1);
    for (let ms = 1; ms <= 100; ms++) balancer.succeeded(balancer.acquire(), ms);
    balancer.failed(balancer.acquire(), false, "HTTP 429");
    balancer.acquire();
    expect(balancer.snapshot()).toEqual([
      { url: "http://e0", state: "up", outstanding: 1, requests: 102, failures: 1, ejections: 0, p50_ms: 50, p99_ms: 99 },
    ]);
  });

  it("has no latency before the first answer", () => {
    expect(setup(1).balancer.snapshot()[0]).toMatchObject({ p50_ms: null, p99_ms: null });
  });
});
