// The kubelet lab's pure parts: each node's plan and configuration files, the mount and cgroup
// parsing its teardown relies on, the machine record, and image references. No lab needed.
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { hostDrift, readHostRecord, type HostFs } from '../../src/node-mode/host-state.js';
import { splitImageRef } from '../../src/node-mode/kubelet-lab.js';
import {
  cniConfig,
  containerdConfig,
  inNodeNetwork,
  ipv4Add,
  kubeletConfig,
  kubeProxyConfig,
  nodePlan,
  nodePlans,
  POD_CIDR,
} from '../../src/node-mode/node-config.js';
import { cgroupHierarchies, mountsUnder } from '../../src/node-mode/node-teardown.js';
import { LAB_NODES } from '../../src/topology.js';

const LAB = '/tmp/lab';

describe('node plans', () => {
  it('give each node its own /28 of the pod range, its gateway, folders and cgroup root', () => {
    const plans = nodePlans(LAB);
    expect(plans.map((p) => [p.node.name, p.podCidr, p.podGateway, p.cgroupRoot])).toEqual([
      ['node-1', '198.51.100.64/28', '198.51.100.65', 'metallb-ts-lab-node-1'],
      ['node-2', '198.51.100.80/28', '198.51.100.81', 'metallb-ts-lab-node-2'],
      ['node-3', '198.51.100.96/28', '198.51.100.97', 'metallb-ts-lab-node-3'],
    ]);
    expect(POD_CIDR).toBe('198.51.100.64/26');
    for (const p of plans) {
      expect(p.dir).toBe(`${LAB}/nodes/${p.node.name}`);
      // A unix socket path must stay under 108 bytes, with room for the shim's suffixes.
      expect(p.socket.length).toBeLessThan(60);
    }
  });

  it('refuse a node the pod range has no room for, naming it', () => {
    expect(() => nodePlan(LAB, { ...LAB_NODES[0]!, name: 'node-9' }, 9)).toThrow(
      'node index 9 of node-9: the pod range has room for nodes 1-4',
    );
  });

  it('add to IPv4 addresses across octets', () => {
    expect(ipv4Add('198.51.100.64/26', 16)).toBe('198.51.100.80');
    expect(ipv4Add('10.0.0.250/24', 10)).toBe('10.0.1.4');
  });
});

describe('configuration files', () => {
  const plan = nodePlans(LAB)[1]!;

  it('containerd keeps everything under the node and works without CAP_SYS_RESOURCE', () => {
    const text = containerdConfig(plan, '198.51.100.1:5000/metallb-ts/lab-pause:abc');
    expect(text).toContain(`root = "${LAB}/nodes/node-2/containerd"`);
    expect(text).toContain('state = "/run/metallb-ts-lab/node-2"');
    expect(text).toContain('address = "/run/metallb-ts-lab/node-2/containerd.sock"');
    expect(text).toContain('sandbox = "198.51.100.1:5000/metallb-ts/lab-pause:abc"');
    expect(text).toContain('restrict_oom_score_adj = true');
    expect(text).toContain('netns_mounts_under_state_dir = true');
    expect(text).toContain('Root = "/run/metallb-ts-lab/node-2/runc"');
    expect(text).toContain('"io.containerd.nri.v1.nri"');
    expect(text).not.toMatch(/\/var\/lib\/containerd|"\/run\/containerd/);
  });

  it('the CNI bridge hands out the node range from a data dir of its own', () => {
    const conf = JSON.parse(cniConfig(plan)) as {
      name: string;
      plugins: {
        type: string;
        ipam?: { dataDir: string; ranges: { subnet: string; gateway: string }[][] };
      }[];
    };
    expect(conf.name).toBe('metallb-ts-lab');
    expect(conf.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conf.plugins[0]!.ipam).toEqual(
      expect.objectContaining({
        dataDir: `${LAB}/nodes/node-2/cni/ipam`,
        ranges: [[{ subnet: '198.51.100.80/28', gateway: '198.51.100.81' }]],
      }),
    );
  });

  it('the kubelet runs on cgroup v1 under its own root, with its logs in the lab', () => {
    const c = parse(kubeletConfig(plan, '/tmp/lab/pki/ca.crt')) as Record<string, unknown>;
    expect(c).toMatchObject({
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/metallb-ts-lab-node-2',
      address: '198.51.100.12',
      containerRuntimeEndpoint: 'unix:///run/metallb-ts-lab/node-2/containerd.sock',
      podLogsDir: `${LAB}/nodes/node-2/pod-logs`,
      readOnlyPort: 0,
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: '/tmp/lab/pki/ca.crt' } },
      authorization: { mode: 'Webhook' },
    });
  });

  it('kube-proxy leaves the machine-wide conntrack settings alone', () => {
    const c = parse(kubeProxyConfig(plan)) as Record<string, unknown>;
    expect(c).toMatchObject({
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      hostnameOverride: 'node-2',
      clusterCIDR: POD_CIDR,
      conntrack: { maxPerCore: 0, min: 0 },
    });
  });

  it('processes enter the node network only, not a new mount namespace', () => {
    expect(inNodeNetwork('node-2', ['kubelet', '--v=1'])).toEqual([
      'nsenter',
      '--net=/run/netns/node-2',
      '--',
      'kubelet',
      '--v=1',
    ]);
  });
});

const MOUNTINFO = [
  '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '30 22 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '31 22 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '32 22 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '40 22 0:50 / /run/metallb-ts-lab/node-1/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw',
  '41 22 0:4 net:[4026532999] /run/metallb-ts-lab/node-1/netns/cni-1 rw - nsfs nsfs rw',
  '42 22 0:51 / /tmp/lab/nodes/node-1/kubelet/pods/u/volumes/kube-api-access rw - tmpfs tmpfs rw',
  '43 22 0:52 / /tmp/lab/nodes/with\\040space rw - tmpfs tmpfs rw',
  '44 22 0:53 / /run/metallb-ts-labX/other rw - tmpfs tmpfs rw',
  '',
].join('\n');

describe('what the teardown reads', () => {
  it('finds every cgroup hierarchy, v1 and v2', () => {
    expect(cgroupHierarchies(MOUNTINFO)).toEqual([
      '/sys/fs/cgroup/cpu',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/unified',
    ]);
  });

  it('finds the mounts under the lab, deepest first, unescaped, and nothing beside it', () => {
    expect(mountsUnder(['/run/metallb-ts-lab', '/tmp/lab/nodes'], MOUNTINFO)).toEqual([
      '/run/metallb-ts-lab/node-1/io.containerd.runtime.v2.task/k8s.io/abc/rootfs',
      '/tmp/lab/nodes/node-1/kubelet/pods/u/volumes/kube-api-access',
      '/run/metallb-ts-lab/node-1/netns/cni-1',
      '/tmp/lab/nodes/with space',
    ]);
  });
});

describe('the machine record', () => {
  const fake = (values: Record<string, string>): HostFs => ({
    read: (p) => values[p] ?? '',
    write: () => undefined,
    exists: (p) => p in values,
  });

  it('reads the kernel settings the kubelet writes and which fixed folders exist', () => {
    const r = readHostRecord(
      fake({ '/proc/sys/kernel/panic': '1', '/proc/sys/vm/overcommit_memory': '0', '/var/lib/kubelet': '' }),
    );
    expect(r.sysctls).toEqual({ 'kernel/panic': '1', 'vm/overcommit_memory': '0' });
    expect(r.existed).toEqual({
      '/run/containerd': false,
      '/var/lib/kubelet': true,
      '/var/log/containers': false,
    });
  });

  it('names what the kubelet changed, now -> recorded', () => {
    const record = readHostRecord(
      fake({ '/proc/sys/kernel/panic': '1', '/proc/sys/vm/overcommit_memory': '0' }),
    );
    expect(
      hostDrift(record, fake({ '/proc/sys/kernel/panic': '10', '/proc/sys/vm/overcommit_memory': '0' })),
    ).toEqual(['kernel/panic: 10 -> 1']);
  });
});

describe('image references', () => {
  it('split at the tag, not at the registry port', () => {
    expect(splitImageRef('198.51.100.1:5000/metallb-ts/speaker:0.1.0')).toEqual({
      repository: '198.51.100.1:5000/metallb-ts/speaker',
      tag: '0.1.0',
    });
    expect(() => splitImageRef('198.51.100.1:5000/metallb-ts/speaker')).toThrow('has no tag');
  });
});
