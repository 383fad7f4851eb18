import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Decides which resolved addresses a user-supplied URL may reach. Anything that is not plainly on the
 * public internet is refused, so a URL cannot make the worker talk to itself, the cluster, the cloud
 * metadata endpoint or the LAN. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4)
 * are judged by the IPv4 address inside, since that is where the packets end up.
 *
 * The ranges are our own list rather than ipaddr.js's `range()` names: that list calls every block it
 * has no name for 'unicast', and which blocks it names changes between its versions.
 */

const REFUSED_IPV4 = [
  '0.0.0.0/8', // "this network"; Linux treats 0.0.0.0 as localhost
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, home of the cloud metadata service 169.254.169.254
  '172.16.0.0/12',
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation
  '192.88.99.0/24', // retired 6to4 relay anycast
  '192.168.0.0/16',
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, including the broadcast address 255.255.255.255
].map((cidr) => ipaddr.IPv4.parseCIDR(cidr));

// Only 2000::/3 is allocated for global unicast; loopback, unspecified, ULA (fc00::/7), link-local
// (fe80::/10), multicast (ff00::/8) and the reserved blocks all lie outside it.
const GLOBAL_UNICAST_IPV6 = ipaddr.IPv6.parseCIDR('2000::/3');

const REFUSED_GLOBAL_IPV6 = [
  '2001::/23', // IETF protocol assignments: Teredo, benchmarking, ORCHID
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation
].map((cidr) => ipaddr.IPv6.parseCIDR(cidr));

// Prefixes whose low 32 bits are an IPv4 address the traffic is delivered to.
const IPV4_IN_LOW_BITS = [
  '::/96', // IPv4-compatible (deprecated); also covers :: and ::1
  '::ffff:0:0/96', // IPv4-mapped
  '::ffff:0:0:0/96', // SIIT IPv4-translated
  '64:ff9b::/96', // NAT64 well-known prefix
].map((cidr) => ipaddr.IPv6.parseCIDR(cidr));
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR('2002::/16');

export function isPublicAddress(ip: string): boolean {
  // node:net is the strict gate: ipaddr.js also reads the legacy forms '127.1', '0x7f.1' and octal.
  if (isIPv4(ip)) return isPublicIPv4(ipaddr.IPv4.parse(ip));
  const withoutZone = ip.split('%')[0] ?? '';
  if (isIPv6(withoutZone)) return isPublicIPv6(ipaddr.IPv6.parse(withoutZone));
  return false;
}

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  return !REFUSED_IPV4.some((range) => address.match(range));
}

function isPublicIPv6(address: ipaddr.IPv6): boolean {
  const [, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = address.parts;
  if (IPV4_IN_LOW_BITS.some((range) => address.match(range))) return isPublicIPv4(ipv4Of(p6, p7));
  if (address.match(SIX_TO_FOUR)) return isPublicIPv4(ipv4Of(p1, p2));
  return address.match(GLOBAL_UNICAST_IPV6) && !REFUSED_GLOBAL_IPV6.some((range) => address.match(range));
}

function ipv4Of(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
