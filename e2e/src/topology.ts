import { existsSync } from 'node:fs';
import { run, runOk } from './run.js';
import { listLinks, listNetns, netnsPids, nsSysctl, writeHostSysctl } from './netns.js';
import { sleep } from './wait-for.js';

/** One node namespace of the lab and its addresses. */
export interface LabNode {
  readonly name: string;
  readonly mgmtIp: string;
  readonly dataIp: string;
  readonly dataIp6: string;
}

export const MGMT_BRIDGE = 'mlb-mgmt';
export const DATA_BRIDGE = 'mlb-data';
// A /25: the management /26 (host .1, nodes .11-.13) plus the kubelet lab's pod range .64/26,
// which the nodes answer for by proxy ARP, so the host reaches pods without a route of its own.
export const MGMT_HOST_CIDR = '198.51.100.1/25';
export const MGMT_PREFIX = 25;
export const DATA_PREFIX = 24;
export const DATA_PREFIX6 = 64;
/** Interface names inside the namespaces. */
export const MGMT_IF = 'mgmt0';
export const DATA_IF = 'data0';
/** Dummy device where the lab's service proxy puts VIPs, like kube-proxy in IPVS mode. */
export const VIP_IF = 'kube-ipvs0';
/** Host-side veth name prefixes (host names are limited to 15 characters). */
const MGMT_VETH_PREFIX = 'mlbm-';
const DATA_VETH_PREFIX = 'mlbd-';

export const LAB_NODES: readonly LabNode[] = [1, 2, 3].map((i) => ({
  name: `node-${i}`,
  mgmtIp: `198.51.100.1${i}`,
  dataIp: `203.0.113.1${i}`,
  dataIp6: `2001:db8:1::1${i}`,
}));

export const CLIENT_NS = 'client';
export const CLIENT_IP = '203.0.113.100';
export const CLIENT_IP6 = '2001:db8:1::100';

/** Every namespace the lab creates. */
export const LAB_NAMESPACES: readonly string[] = [...LAB_NODES.map((n) => n.name), CLIENT_NS];

export function labNode(name: string): LabNode {
  const node = LAB_NODES.find((n) => n.name === name);
  if (!node)
    throw new Error(
      `unknown lab node ${JSON.stringify(name)}; known: ${LAB_NODES.map((n) => n.name).join(', ')}`,
    );
  return node;
}

async function addBridge(name: string): Promise<void> {
  // No STP and no forward delay: ports forward at once. No multicast snooping: NDP multicast
  // reaches every port whether or not someone sent an MLD report.
  await runOk([
    'ip',
    'link',
    'add',
    name,
    'type',
    'bridge',
    'stp_state',
    '0',
    'forward_delay',
    '0',
    'mcast_snooping',
    '0',
  ]);
  writeHostSysctl(`net/ipv4/conf/${name}/proxy_arp`, '0');
  // The host stays off the data bridge entirely (no IPv6 link-local chatter either).
  writeHostSysctl(`net/ipv6/conf/${name}/disable_ipv6`, '1');
  await runOk(['ip', 'link', 'set', name, 'up']);
}

async function addVeth(hostName: string, ns: string, inner: string, bridge: string): Promise<void> {
  await runOk(['ip', 'link', 'add', hostName, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
  writeHostSysctl(`net/ipv6/conf/${hostName}/disable_ipv6`, '1');
  await runOk(['ip', 'link', 'set', hostName, 'master', bridge]);
  // Plain learning switch port: never answer ARP/ND on behalf of others.
  await runOk([
    'ip',
    'link',
    'set',
    'dev',
    hostName,
    'type',
    'bridge_slave',
    'proxy_arp',
    'off',
    'neigh_suppress',
    'off',
  ]);
  await runOk(['ip', 'link', 'set', hostName, 'up']);
}

async function addNamespace(ns: string, strictArp: boolean): Promise<void> {
  await runOk(['ip', 'netns', 'add', ns]);
  await runOk(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  const settings: Record<string, string> = {
    // No duplicate address detection delay: addresses are usable at once, tests are fast.
    'net.ipv6.conf.all.accept_dad': '0',
    'net.ipv6.conf.default.accept_dad': '0',
    'net.ipv6.conf.default.dad_transmits': '0',
    // Nobody routes here; stay quiet.
    'net.ipv6.conf.default.accept_ra': '0',
    'net.ipv6.conf.default.router_solicitations': '0',
  };
  if (strictArp) {
    // kube-proxy's strictARP: answer ARP only for addresses of the receiving interface, and
    // never use a VIP as ARP sender, so only the speaker ever answers for a VIP.
    settings['net.ipv4.conf.all.arp_ignore'] = '1';
    settings['net.ipv4.conf.all.arp_announce'] = '2';
  }
  await nsSysctl(ns, settings);
}

/**
 * kube-proxy's device type is `dummy`; some kernels (e.g. minimal VM kernels) lack that module, so
 * fall back to `ifb`, which behaves the same for this purpose: a NOARP device that only holds
 * local addresses and never transmits.
 */
async function addVipDevice(ns: string): Promise<void> {
  const dummy = await run(['ip', '-n', ns, 'link', 'add', VIP_IF, 'type', 'dummy']);
  if (dummy.code !== 0) await runOk(['ip', '-n', ns, 'link', 'add', VIP_IF, 'type', 'ifb']);
}

/**
 * Builds the lab network: namespaces node-1..3 and client, the management bridge (host
 * 198.51.100.1/25, nodes .11-.13 on `mgmt0`), the data bridge (no host address; nodes
 * 203.0.113.11-13 and 2001:db8:1::11-13 on `data0`, client .100 / ::100) and a `kube-ipvs0` dummy
 * in every node. Removes leftovers of an earlier run first.
 */
export async function createTopology(progress: (line: string) => void = () => undefined): Promise<void> {
  await destroyTopology();
  progress(`topology: bridges ${MGMT_BRIDGE} (${MGMT_HOST_CIDR}) and ${DATA_BRIDGE}`);
  await addBridge(MGMT_BRIDGE);
  await runOk(['ip', 'addr', 'add', MGMT_HOST_CIDR, 'dev', MGMT_BRIDGE]);
  await addBridge(DATA_BRIDGE);

  for (const node of LAB_NODES) {
    progress(`topology: namespace ${node.name} (mgmt ${node.mgmtIp}, data ${node.dataIp} ${node.dataIp6})`);
    await addNamespace(node.name, true);
    await addVeth(`${MGMT_VETH_PREFIX}${node.name}`, node.name, MGMT_IF, MGMT_BRIDGE);
    await addVeth(`${DATA_VETH_PREFIX}${node.name}`, node.name, DATA_IF, DATA_BRIDGE);
    const n = ['ip', '-n', node.name];
    await runOk([...n, 'addr', 'add', `${node.mgmtIp}/${MGMT_PREFIX}`, 'dev', MGMT_IF]);
    await runOk([...n, 'link', 'set', MGMT_IF, 'up']);
    await runOk([...n, 'addr', 'add', `${node.dataIp}/${DATA_PREFIX}`, 'dev', DATA_IF]);
    await runOk([...n, 'addr', 'add', `${node.dataIp6}/${DATA_PREFIX6}`, 'dev', DATA_IF, 'nodad']);
    await runOk([...n, 'link', 'set', DATA_IF, 'up']);
    await addVipDevice(node.name);
    await runOk([...n, 'link', 'set', VIP_IF, 'up']);
  }

  progress(`topology: namespace ${CLIENT_NS} (data ${CLIENT_IP} ${CLIENT_IP6})`);
  await addNamespace(CLIENT_NS, false);
  await addVeth(`${DATA_VETH_PREFIX}${CLIENT_NS}`, CLIENT_NS, DATA_IF, DATA_BRIDGE);
  const c = ['ip', '-n', CLIENT_NS];
  await runOk([...c, 'addr', 'add', `${CLIENT_IP}/${DATA_PREFIX}`, 'dev', DATA_IF]);
  await runOk([...c, 'addr', 'add', `${CLIENT_IP6}/${DATA_PREFIX6}`, 'dev', DATA_IF, 'nodad']);
  await runOk([...c, 'link', 'set', DATA_IF, 'up']);
}

/** True when nothing the topology makes exists on this host. */
export async function topologyGone(): Promise<{ gone: boolean; leftovers: string[] }> {
  const namespaces = (await listNetns()).filter((n) => LAB_NAMESPACES.includes(n));
  const links = (await listLinks())
    .map((l) => l.ifname)
    .filter(
      (n) =>
        n === MGMT_BRIDGE ||
        n === DATA_BRIDGE ||
        n.startsWith(MGMT_VETH_PREFIX) ||
        n.startsWith(DATA_VETH_PREFIX),
    );
  const leftovers = [...namespaces.map((n) => `netns ${n}`), ...links.map((l) => `link ${l}`)];
  return { gone: leftovers.length === 0, leftovers };
}

/**
 * Removes every namespace, link and bridge the lab makes, whatever state they are in (also after
 * a crash). Processes still living in the lab's namespaces are ended first (by their PIDs).
 */
export async function destroyTopology(): Promise<void> {
  const present = new Set(await listNetns());
  for (const ns of LAB_NAMESPACES) {
    if (!present.has(ns)) continue;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const pids = await netnsPids(ns);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline && (await netnsPids(ns)).length > 0) await sleep(50);
    }
    await run(['ip', 'netns', 'del', ns]);
  }
  // Deleting a namespace deletes its veth ends and with them the host ends; sweep anyway.
  for (const link of await listLinks()) {
    const name = link.ifname;
    if (name.startsWith(MGMT_VETH_PREFIX) || name.startsWith(DATA_VETH_PREFIX))
      await run(['ip', 'link', 'del', name]);
  }
  for (const bridge of [MGMT_BRIDGE, DATA_BRIDGE]) {
    if (existsSync(`/sys/class/net/${bridge}`)) await run(['ip', 'link', 'del', bridge]);
  }
}

/** `ip addr` and `ip neigh` of every lab namespace, for failure messages. */
export async function describeTopology(): Promise<string> {
  const parts: string[] = [];
  for (const ns of LAB_NAMESPACES) {
    const addr = await run(['ip', '-n', ns, '-br', 'addr']);
    const neigh = await run(['ip', '-n', ns, 'neigh']);
    parts.push(`## ${ns}\n${addr.stdout || addr.stderr}${neigh.stdout ? `neigh:\n${neigh.stdout}` : ''}`);
  }
  const host = await run(['ip', '-br', 'addr', 'show', 'dev', MGMT_BRIDGE]);
  parts.push(`## host ${MGMT_BRIDGE}\n${host.stdout || host.stderr}`);
  return parts.join('\n');
}
