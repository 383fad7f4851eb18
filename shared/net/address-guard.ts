import { isIPv4, isIPv6 } from 'node:net';

/**
 * Decides which resolved addresses a user-supplied URL may reach. Anything that is not plainly on the
 * public internet is refused, so a URL cannot make the worker talk to itself, the cluster, the cloud
 * metadata endpoint or the LAN. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4)
 * are judged by the IPv4 address inside, since that is where the packets end up.
 */

type Range<T> = readonly [base: T, prefixLength: number];

const REFUSED_IPV4: readonly Range<number>[] = [
  v4('0.0.0.0/8'), // "this network"; Linux treats 0.0.0.0 as localhost
  v4('10.0.0.0/8'),
  v4('100.64.0.0/10'), // carrier-grade NAT
  v4('127.0.0.0/8'),
  v4('169.254.0.0/16'), // link-local, home of the cloud metadata service 169.254.169.254
  v4('172.16.0.0/12'),
  v4('192.0.0.0/24'), // IETF protocol assignments
  v4('192.0.2.0/24'), // documentation
  v4('192.88.99.0/24'), // retired 6to4 relay anycast
  v4('192.168.0.0/16'),
  v4('198.18.0.0/15'), // benchmarking
  v4('198.51.100.0/24'), // documentation
  v4('203.0.113.0/24'), // documentation
  v4('224.0.0.0/4'), // multicast
  v4('240.0.0.0/4'), // reserved, including the broadcast address 255.255.255.255
];

// Only 2000::/3 is allocated for global unicast; loopback, unspecified, ULA (fc00::/7), link-local
// (fe80::/10), multicast (ff00::/8) and the reserved blocks all lie outside it.
const GLOBAL_UNICAST_IPV6 = v6('2000::/3');

const REFUSED_GLOBAL_IPV6: readonly Range<bigint>[] = [
  v6('2001::/23'), // IETF protocol assignments: Teredo, benchmarking, ORCHID
  v6('2001:db8::/32'), // documentation
  v6('3fff::/20'), // documentation
];

// Prefixes whose low 32 bits are an IPv4 address the traffic is delivered to.
const IPV4_IN_LOW_BITS: readonly Range<bigint>[] = [
  v6('::/96'), // IPv4-compatible (deprecated); also covers :: and ::1
  v6('::ffff:0:0/96'), // IPv4-mapped
  v6('::ffff:0:0:0/96'), // SIIT IPv4-translated
  v6('64:ff9b::/96'), // NAT64 well-known prefix
];
const SIX_TO_FOUR = v6('2002::/16');

export function isPublicAddress(ip: string): boolean {
  if (isIPv4(ip)) return isPublicIPv4(parseIPv4(ip));
  const withoutZone = ip.split('%')[0] ?? '';
  if (isIPv6(withoutZone)) return isPublicIPv6(parseIPv6(withoutZone));
  return false;
}

function isPublicIPv4(address: number): boolean {
  return !REFUSED_IPV4.some((range) => inIPv4Range(address, range));
}

function isPublicIPv6(address: bigint): boolean {
  if (IPV4_IN_LOW_BITS.some((range) => inIPv6Range(address, range))) {
    return isPublicIPv4(Number(address & 0xffff_ffffn));
  }
  if (inIPv6Range(address, SIX_TO_FOUR)) return isPublicIPv4(Number((address >> 80n) & 0xffff_ffffn));
  return (
    inIPv6Range(address, GLOBAL_UNICAST_IPV6) &&
    !REFUSED_GLOBAL_IPV6.some((range) => inIPv6Range(address, range))
  );
}

function inIPv4Range(address: number, [base, prefixLength]: Range<number>): boolean {
  if (prefixLength === 0) return true;
  const mask = (~0 << (32 - prefixLength)) >>> 0;
  return (address & mask) >>> 0 === (base & mask) >>> 0;
}

function inIPv6Range(address: bigint, [base, prefixLength]: Range<bigint>): boolean {
  const shift = BigInt(128 - prefixLength);
  return address >> shift === base >> shift;
}

/** Expects a valid dotted quad, as `isIPv4` accepts it. */
function parseIPv4(text: string): number {
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Expects a valid IPv6 address without zone, as `isIPv6` accepts it. */
function parseIPv6(text: string): bigint {
  let hex = text;
  if (hex.includes('.')) {
    const lastColon = hex.lastIndexOf(':');
    const v4 = parseIPv4(hex.slice(lastColon + 1));
    hex = `${hex.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = hex.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const headGroups = groups(head);
  const tailGroups = groups(tail);
  const zeros: string[] = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce(
    (acc, group) => (acc << 16n) | BigInt(`0x${group}`),
    0n,
  );
}

function v4(cidr: string): Range<number> {
  const [base = '', prefixLength] = cidr.split('/');
  return [parseIPv4(base), Number(prefixLength)];
}

function v6(cidr: string): Range<bigint> {
  const [base = '', prefixLength] = cidr.split('/');
  return [parseIPv6(base), Number(prefixLength)];
}
