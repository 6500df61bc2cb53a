import { execFileSync } from 'node:child_process';

/**
 * A network namespace of this test alone, joined to the machine by a veth pair on a /30 of its
 * own (private addresses that exist only while the test runs): a second "host" on this machine.
 * Loopback is up inside, so a sesman there listens on its own 127.0.0.1:3350.
 */
export interface TestNamespace {
  name: string;
  /** The machine's end of the veth pair (bind services the namespace must reach here). */
  outsideAddress: string;
  /** The namespace's end: what RDP clients on the machine connect to. */
  insideAddress: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  remove(): void;
}

const run = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether namespaces can be made here (root and iproute2). */
export function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `tag` is 1-4 letters; the subnet is 172.31.<third>.<fourth*4>/30, chosen at random. */
export function createNamespace(tag: string): TestNamespace {
  const suffix = `${process.pid % 100000}${tag}`;
  const name = `rdpt-${suffix}`;
  const outside = `rdpo${suffix}`.slice(0, 15);
  const inside = `rdpi${suffix}`.slice(0, 15);
  const third = Math.floor(Math.random() * 200) + 20;
  const base = Math.floor(Math.random() * 60) * 4;
  const outsideAddress = `172.31.${third}.${base + 1}`;
  const insideAddress = `172.31.${third}.${base + 2}`;
  const remove = () => {
    try {
      run('link', 'del', outside);
    } catch {
      // gone with the namespace
    }
    try {
      run('netns', 'del', name);
    } catch {
      // already removed
    }
  };
  remove();
  try {
    run('netns', 'add', name);
    run('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    run('link', 'set', inside, 'netns', name);
    run('addr', 'add', `${outsideAddress}/30`, 'dev', outside);
    run('link', 'set', outside, 'up');
    run('netns', 'exec', name, 'ip', 'addr', 'add', `${insideAddress}/30`, 'dev', inside);
    run('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    run('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    remove();
    throw err;
  }
  return { name, outsideAddress, insideAddress, exec: ['ip', 'netns', 'exec', name], remove };
}
