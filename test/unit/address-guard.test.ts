import { expect } from 'chai';
import { isPublicAddress } from '../../shared/net/address-guard.js';

const refused: Record<string, string[]> = {
  'IPv4 loopback 127/8': ['127.0.0.1', '127.0.0.2', '127.255.255.255'],
  'IPv4 private 10/8': ['10.0.0.0', '10.1.2.3', '10.255.255.255'],
  'IPv4 private 172.16/12': ['172.16.0.0', '172.20.1.1', '172.31.255.255'],
  'IPv4 private 192.168/16': ['192.168.0.0', '192.168.1.1', '192.168.255.255'],
  'IPv4 link-local 169.254/16 and the metadata service': [
    '169.254.0.1',
    '169.254.169.254',
    '169.254.255.255',
  ],
  'IPv4 carrier-grade NAT 100.64/10': ['100.64.0.0', '100.100.100.100', '100.127.255.255'],
  'IPv4 multicast 224/4': ['224.0.0.1', '239.255.255.250'],
  'IPv4 unspecified 0/8': ['0.0.0.0', '0.1.2.3'],
  'IPv4 broadcast': ['255.255.255.255'],
  'IPv4 reserved 240/4': ['240.0.0.1', '250.1.2.3'],
  'IPv4 documentation and benchmarking': [
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '198.18.0.1',
    '198.19.255.255',
  ],
  'IPv4 protocol assignments and 6to4 relay': ['192.0.0.8', '192.88.99.1'],
  'IPv6 loopback and unspecified': ['::1', '::', '0:0:0:0:0:0:0:1'],
  'IPv6 link-local fe80::/10': ['fe80::1', 'fe80::1%eth0', 'febf:ffff::1'],
  'IPv6 unique local fc00::/7': ['fc00::1', 'fd12:3456:789a::1', 'fdff:ffff::1'],
  'IPv6 multicast ff00::/8': ['ff02::1', 'ff05::1:3', 'ffff::1'],
  'IPv6 site-local, discard and other non-global blocks': ['fec0::1', '100::1', '1::1'],
  'IPv6 documentation and protocol assignments': ['2001:db8::1', '3fff::1', '2001::1', '2001:0:4136:e378::1'],
  'IPv4-mapped IPv6 in dotted form': [
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:192.168.1.1',
    '::ffff:0.0.0.0',
  ],
  'IPv4-mapped IPv6 in hex form': [
    '::ffff:7f00:1',
    '::ffff:a00:1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:7f00:1',
  ],
  'IPv4-compatible IPv6': ['::127.0.0.1', '::7f00:1', '::10.0.0.1'],
  'SIIT IPv4-translated IPv6': ['::ffff:0:127.0.0.1', '::ffff:0:a9fe:a9fe'],
  'NAT64 64:ff9b::/96 of a non-public IPv4': [
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.1',
  ],
  'NAT64 local-use 64:ff9b:1::/48': ['64:ff9b:1::808:808'],
  '6to4 2002::/16 of a non-public IPv4': ['2002:7f00:1::1', '2002:a9fe:a9fe::', '2002:c0a8:101::1'],
  'text that is not an address': [
    '',
    'localhost',
    'example.com',
    '127.1',
    '1.2.3.4.5',
    '[::1]',
    '::ffff:1.2.3',
  ],
};

const allowed: Record<string, string[]> = {
  'public IPv4': [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '223.255.255.255',
  ],
  'public IPv6': ['2606:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::200e'],
  'IPv4-mapped and NAT64 forms of a public IPv4': [
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::1.1.1.1',
    '2002:808:808::1',
  ],
};

describe('isPublicAddress', () => {
  for (const [range, addresses] of Object.entries(refused)) {
    for (const ip of addresses) {
      it(`when given ${JSON.stringify(ip)} (${range}), then it is refused`, () => {
        expect(isPublicAddress(ip)).to.equal(false);
      });
    }
  }

  for (const [range, addresses] of Object.entries(allowed)) {
    for (const ip of addresses) {
      it(`when given ${ip} (${range}), then it is allowed`, () => {
        expect(isPublicAddress(ip)).to.equal(true);
      });
    }
  }
});
