#!/usr/bin/env python3
"""Send one IPv6 router advertisement out of an interface.

    ra.py IFACE PREFIX/64 [ROUTER_LIFETIME]

To ff02::1, from the interface's link-local address, hop limit 255 as
RFC 4861 wants: a router lifetime (default 1800 s) and one prefix with the
on-link and autonomous flags, as a router of the upstream network would."""
import ipaddress
import socket
import struct
import sys


def main():
    iface, prefix = sys.argv[1], ipaddress.IPv6Network(sys.argv[2])
    lifetime = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(iface))
    # type 134, code 0, checksum (the kernel's), hop limit 64, no flags,
    # router lifetime, reachable time, retrans timer
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, lifetime, 0, 0)
    # prefix information: type 3, length 4 (32 bytes), prefix length,
    # L and A flags, valid and preferred lifetimes, reserved, prefix
    ra += struct.pack("!BBBBIII", 3, 4, prefix.prefixlen, 0xC0, 86400, 14400, 0) + prefix.network_address.packed
    s.sendto(ra, ("ff02::1", 0, 0, socket.if_nametoindex(iface)))


if __name__ == "__main__":
    main()
