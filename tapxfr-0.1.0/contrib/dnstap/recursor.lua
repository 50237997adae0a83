-- PowerDNS Recursor (tested: 4.8.8, Debian 12) -> tapxfr over a Unix
-- socket: the responses of the authoritative servers (and forward-zones
-- targets) the recursor queried, as RESOLVER_RESPONSE. This goes in the
-- Lua configuration file (lua-config-file= in recursor.conf).
-- Start tapxfr with: --dnstap-socket /run/tapxfr/dnstap.sock
--   --dnstap-socket-group pdns
dnstapFrameStreamServer({"/run/tapxfr/dnstap.sock"}, {logQueries=false, logResponses=true})
