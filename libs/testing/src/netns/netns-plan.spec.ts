import { parseQdiscCounters } from './host-network';
import {
  NetnsPlanError,
  UPLINK_HEADROOM,
  formatArgv,
  isHostProcessOf,
  netnsPlan,
  partitionCommands,
  setupCommands,
  splitRule,
  sweepCommands,
  tbfArgs,
  teardownCommands,
} from './netns-plan';

describe(netnsPlan.name, () => {
  const sut = () => netnsPlan({ tag: 'tb', nodes: 3, subnetOctet: 77, uplink: '3mbit' });

  it('names every namespace and link with the testbed prefix, within 15 characters', () => {
    const plan = netnsPlan({ tag: 'abcd', nodes: 200, subnetOctet: 9, uplink: '3mbit' });
    const links = [
      plan.bridge,
      ...plan.nodes.flatMap((n) => [n.uplinkInside, n.uplinkOutside, n.hostLinkInside, n.hostLinkOutside]),
    ];
    for (const l of links) {
      expect(l.startsWith(plan.linkPrefix)).toBe(true);
      expect(l.length).toBeLessThanOrEqual(15);
    }
    expect(new Set(links).size).toBe(links.length);
    for (const n of plan.nodes) expect(n.namespace.startsWith(plan.namespacePrefix)).toBe(true);
  });

  it('puts the host at .1 and node k at .(10+k), and derives the upload limit from the uplink', () => {
    const plan = sut();
    expect(plan.hostAddress).toBe('10.77.0.1');
    expect(plan.nodes.map((n) => n.address)).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    expect(plan.uplinkBps).toBe(3_000_000);
    expect(plan.uploadLimitBps).toBe(Math.floor(3_000_000 * UPLINK_HEADROOM));
    expect(plan.uploadLimitBps).toBeLessThan(plan.uplinkBps);
  });

  it.each([
    [{ tag: 'TB' }, /tag/],
    [{ tag: 'toolong' }, /tag/],
    [{ nodes: 0 }, /nodes/],
    [{ nodes: 201 }, /nodes/],
    [{ subnetOctet: 255 }, /subnet/],
    [{ uplink: 'fast' }, /uplink/],
    [{ uplink: 'unlimited' }, /finite/],
  ])('rejects %j', (bad, message) => {
    expect(() => netnsPlan({ tag: 'tb', nodes: 3, subnetOctet: 77, uplink: '3mbit', ...bad })).toThrow(
      NetnsPlanError,
    );
    expect(() => netnsPlan({ tag: 'tb', nodes: 3, subnetOctet: 77, uplink: '3mbit', ...bad })).toThrow(
      message,
    );
  });
});

describe(setupCommands.name, () => {
  const plan = netnsPlan({ tag: 'tb', nodes: 2, subnetOctet: 77, uplink: '3mbit' });
  const sut = setupCommands(plan).map(formatArgv);

  it('creates the bridge first, with the host address, and accepts bridged traffic', () => {
    expect(sut.slice(0, 4)).toEqual([
      'ip link add asttb-br type bridge',
      'ip addr add 10.77.0.1/24 dev asttb-br',
      'ip link set asttb-br up',
      'iptables -I FORWARD -i asttb-br -o asttb-br -m comment --comment astral-testbed-tb -j ACCEPT',
    ]);
  });

  it('shapes the egress of the uplink inside each namespace with tbf at the uplink rate', () => {
    expect(sut).toContain(
      'ip netns exec astral-tb-n2 tc qdisc add dev asttb-u2 root tbf rate 3000000bit burst 16000 latency 300ms',
    );
  });

  it('creates each namespace before anything goes into it, and routes host traffic over the unshaped host link', () => {
    const ns = sut.indexOf('ip netns add astral-tb-n1');
    const veth = sut.indexOf('ip link add asttb-U1 type veth peer name asttb-u1 netns astral-tb-n1');
    expect(ns).toBeGreaterThan(0);
    expect(veth).toBeGreaterThan(ns);
    expect(sut).toContain('ip netns exec astral-tb-n1 ip addr add 10.77.0.11/24 dev asttb-u1');
    expect(sut).toContain('ip route add 10.77.0.11/32 dev asttb-H1 src 10.77.0.1');
    expect(sut).toContain('ip netns exec astral-tb-n1 ip route add 10.77.0.1/32 dev asttb-h1 src 10.77.0.11');
  });
});

describe(teardownCommands.name, () => {
  it('deletes every namespace, link, the bridge and the root rule', () => {
    const plan = netnsPlan({ tag: 'tb', nodes: 2, subnetOctet: 77, uplink: '3mbit' });
    const sut = teardownCommands(plan).map(formatArgv);
    expect(sut).toEqual(
      expect.arrayContaining([
        'ip netns delete astral-tb-n1',
        'ip netns delete astral-tb-n2',
        'ip link delete asttb-U1',
        'ip link delete asttb-H2',
        'ip link delete asttb-br',
        'iptables -D FORWARD -i asttb-br -o asttb-br -m comment --comment astral-testbed-tb -j ACCEPT',
      ]),
    );
  });
});

describe(partitionCommands.name, () => {
  const plan = netnsPlan({ tag: 'tb', nodes: 2, subnetOctet: 77, uplink: '3mbit' });

  it('drops everything but loopback inside the namespace, and heals with the same rules', () => {
    const cut = partitionCommands(plan, plan.nodes[1], 'cut').map(formatArgv);
    expect(cut).toEqual([
      "ip netns exec astral-tb-n2 iptables -I INPUT '!' -i lo -m comment --comment astral-testbed-tb-partition -j DROP",
      "ip netns exec astral-tb-n2 iptables -I OUTPUT '!' -o lo -m comment --comment astral-testbed-tb-partition -j DROP",
    ]);
    const heal = partitionCommands(plan, plan.nodes[1], 'heal').map(formatArgv);
    expect(heal).toEqual(cut.map((c) => c.replace(' -I ', ' -D ')));
  });
});

describe(sweepCommands.name, () => {
  const plan = netnsPlan({ tag: 'tb', nodes: 2, subnetOctet: 77, uplink: '3mbit' });

  it('removes only what carries this testbed prefix', () => {
    const sut = sweepCommands(plan, {
      namespaces: 'astral-tb-n1 (id: 0)\nastral-tb-n7\nastral-e2e-n1 (id: 3)\nother\n',
      links: [
        '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue',
        '7: asttb-br: <BROADCAST,MULTICAST,UP> mtu 1500',
        '9: asttb-U1@if8: <BROADCAST,MULTICAST,UP> mtu 1500 master asttb-br',
        '10: aste2e-U1@if3: <BROADCAST> mtu 1500',
        '11: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400',
      ].join('\n'),
      iptablesRules: [
        '-P FORWARD ACCEPT',
        '-A FORWARD -i asttb-br -o asttb-br -m comment --comment astral-testbed-tb -j ACCEPT',
        '-A FORWARD -i aste2e-br -o aste2e-br -m comment --comment astral-testbed-e2e -j ACCEPT',
        '-A INPUT -m comment --comment "astral-testbed-tb" -j ACCEPT',
      ].join('\n'),
    }).map(formatArgv);
    expect(sut).toEqual([
      'ip netns delete astral-tb-n1',
      'ip netns delete astral-tb-n7',
      'ip link delete asttb-br',
      'ip link delete asttb-U1',
      'iptables -D FORWARD -i asttb-br -o asttb-br -m comment --comment astral-testbed-tb -j ACCEPT',
      'iptables -D INPUT -m comment --comment astral-testbed-tb -j ACCEPT',
    ]);
  });

  it('has nothing to do on a clean machine', () => {
    expect(
      sweepCommands(plan, { namespaces: '', links: '1: lo: <LOOPBACK>', iptablesRules: '-P INPUT ACCEPT' }),
    ).toEqual([]);
  });
});

describe('helpers', () => {
  it('tbfArgs keeps a bucket of at least 16 kB and ~10 ms of traffic', () => {
    expect(tbfArgs(3_000_000)).toEqual(['tbf', 'rate', '3000000bit', 'burst', '16000', 'latency', '300ms']);
    expect(tbfArgs(100_000_000)[4]).toBe('125000');
  });

  it('splitRule honours quotes', () => {
    expect(splitRule('INPUT -m comment --comment "a b" -j DROP')).toEqual([
      'INPUT',
      '-m',
      'comment',
      '--comment',
      'a b',
      '-j',
      'DROP',
    ]);
  });

  it('parseQdiscCounters reads tc -s output', () => {
    const text =
      'qdisc tbf 8001: root refcnt 2 rate 3Mbit burst 16000b lat 300ms\n Sent 123456 bytes 789 pkt (dropped 2, overlimits 34 requeues 0)\n';
    expect(parseQdiscCounters(text)).toEqual({ bytes: 123456, packets: 789, dropped: 2, overlimits: 34 });
    expect(parseQdiscCounters('nothing')).toBeNull();
  });
});

describe(isHostProcessOf.name, () => {
  it("matches the testbed's redis-server and directory by the address they bind, nothing else", () => {
    expect(isHostProcessOf(['redis-server', '--port', '4000', '--bind', '10.77.0.1'], '10.77.0.1')).toBe(
      true,
    );
    expect(isHostProcessOf(['node', 'bin/astral.js', 'directory', '--host', '10.77.0.1'], '10.77.0.1')).toBe(
      true,
    );
    expect(isHostProcessOf(['redis-server 10.77.0.1:45905', ''], '10.77.0.1')).toBe(true);
    expect(isHostProcessOf(['redis-server', '--bind', '127.0.0.1'], '10.77.0.1')).toBe(false);
    expect(isHostProcessOf(['redis-server 10.77.0.10:6379'], '10.77.0.1')).toBe(false);
    expect(isHostProcessOf(['node', 'x', '10.77.0.1'], '10.77.0.1')).toBe(false);
  });
});
