-- dnsxfr.lua - Wireshark dissector for DNSXFR01, the protocol tapxfr (and
-- the 2004 dnslogger-forward) uses to send DNS responses to a passive DNS
-- collector.
--
-- A DNSXFR01 message is the 8 ASCII bytes "DNSXFR01", the 4-byte IPv4
-- address of the responding name server (0.0.0.0 unless the answer was
-- authoritative and came over IPv4), then a DNS message, which this
-- dissector hands to Wireshark's own DNS dissector.
--   UDP: one message per datagram.
--   TCP: the collector first sends a banner line ending in LF (e.g.
--        "dnslogger/DNSXFR01\r\n"); the sender then sends each message
--        prefixed by its length (DNSXFR01 header included) as a 16-bit
--        big-endian integer.
--
-- Use:
--   tshark -X lua_script:contrib/wireshark/dnsxfr.lua -r capture.pcap
-- or copy the file into the personal Lua plugins folder
-- (~/.local/lib/wireshark/plugins/ on Linux; Help > About > Folders).
--
-- How traffic is recognised (no IANA port exists for DNSXFR01, and the
-- port tapxfr's documentation uses in examples, 5353, is mDNS):
--   * Heuristics, on by default: a UDP payload that starts with
--     "DNSXFR01"; a TCP connection whose first payload is a
--     length-prefixed DNSXFR01 message, a banner line that contains
--     "DNSXFR01", or the first 4 or more bytes of "dnslogger/DNSXFR01"
--     (the TCP heuristic then claims the whole connection, both
--     directions). Disable them with --disable-heuristic dnsxfr_udp and
--     --disable-heuristic dnsxfr_tcp (Analyze > Enabled Protocols).
--   * Ports, off by default: preferences dnsxfr.udp_port and
--     dnsxfr.tcp_port (e.g. tshark -o dnsxfr.tcp_port:5353).
--   * Decode As: -d udp.port==N,dnsxfr or -d tcp.port==N,dnsxfr
--     (a collector whose banner does not mention DNSXFR01).
--
-- Fields: dnsxfr.length (TCP only), dnsxfr.magic, dnsxfr.nameserver,
-- dnsxfr.authoritative (generated: the nameserver field is not 0.0.0.0),
-- dnsxfr.banner, dnsxfr.data (bytes that fit no message); the DNS message
-- is under dns.* as usual. Expert items: dnsxfr.bad_magic, dnsxfr.short,
-- dnsxfr.bad_banner (errors), dnsxfr.unexpected (warning).
-- Over TCP, messages split across segments are reassembled, and several
-- messages in one segment are all shown. The DNS tree of a TCP message
-- starts with a "Length" that is not on the wire: it comes from the "DNS
-- message" data source, see call_dns() below.
-- Tested with Wireshark 4.0.17 (Lua 5.2), tshark one- and two-pass
-- (tests/integration/test_dissector.py).

local MAGIC = "DNSXFR01"
local HEADER_LEN = 12          -- magic + nameserver
local DNS_HEADER_LEN = 12
local LENGTH_LEN = 2           -- TCP length prefix
local MAX_BANNER = 1024        -- a longer "line" is not a banner
local DEFAULT_BANNER = "dnslogger/DNSXFR01\r\n"
local MIN_BANNER_PREFIX = 4    -- a shorter first segment proves nothing

local dnsxfr = Proto("dnsxfr", "DNSXFR01 passive DNS transfer")

local f_length = ProtoField.uint16("dnsxfr.length", "Length", base.DEC, nil, nil,
    "Length of the DNSXFR01 message that follows (TCP)")
local f_magic = ProtoField.string("dnsxfr.magic", "Magic", base.ASCII)
local f_nameserver = ProtoField.ipv4("dnsxfr.nameserver", "Nameserver",
    "Responding name server (0.0.0.0: not an authoritative answer over IPv4)")
local f_auth = ProtoField.bool("dnsxfr.authoritative", "Authoritative answer over IPv4",
    base.NONE, nil, nil, "The nameserver field is set (not 0.0.0.0)")
local f_banner = ProtoField.string("dnsxfr.banner", "Banner", base.ASCII,
    "The collector's banner line (without the line end)")
local f_data = ProtoField.bytes("dnsxfr.data", "Data")
dnsxfr.fields = { f_length, f_magic, f_nameserver, f_auth, f_banner, f_data }

local e_bad_magic = ProtoExpert.new("dnsxfr.bad_magic", "Not a DNSXFR01 message (bad magic)",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_short = ProtoExpert.new("dnsxfr.short", "Too short for a DNSXFR01 message",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_banner = ProtoExpert.new("dnsxfr.bad_banner", "Banner line without LF within "
    .. MAX_BANNER .. " bytes", expert.group.MALFORMED, expert.severity.ERROR)
local e_extra = ProtoExpert.new("dnsxfr.unexpected", "Data after the banner line (the "
    .. "collector sends nothing else)",
    expert.group.PROTOCOL, expert.severity.WARN)
dnsxfr.experts = { e_bad_magic, e_short, e_banner, e_extra }

dnsxfr.prefs.udp_port = Pref.uint("UDP port", 0,
    "Decode this UDP port as DNSXFR01 (0: none; heuristics find it anyway)")
dnsxfr.prefs.tcp_port = Pref.uint("TCP port", 0,
    "Decode this TCP port as DNSXFR01 (0: none; heuristics find it anyway)")

local dns = Dissector.get("dns")
-- pinfo.port_type of TCP (epan's enum port_type: PT_NONE, PT_SCTP, PT_TCP,
-- ...); field extractors such as tcp.stream would not do, as they see
-- nothing in a pass without a tree (tshark -2, Wireshark's first pass).
local PT_TCP = 2

-- Per TCP direction (source and destination endpoint): whether it
-- carries the collector's banner, learnt from its first payload. Reset
-- for every new file.
local directions = {}

function dnsxfr.init()
    directions = {}
end

-- The DNS message. Wireshark's "dns" dissector decides between DNS over
-- UDP and DNS over TCP (with its own 2-byte length) by the transport of
-- the packet, and a Lua dissector cannot change that; on TCP the message
-- is therefore handed over with a DNS-over-TCP length prefix in front, in
-- a new data source ("DNS message").
local function call_dns(tvb, pinfo, tree, over_tcp)
    if not over_tcp then
        dns:call(tvb, pinfo, tree)
        return
    end
    local n = tvb:len()
    local ba = ByteArray.new()
    ba:set_size(LENGTH_LEN)
    ba:set_index(0, math.floor(n / 256))
    ba:set_index(1, n % 256)
    ba:append(tvb:bytes())
    dns:call(ba:tvb("DNS message"), pinfo, tree)
end

-- One DNSXFR01 message starting at offset base of tvb (0, or 2 after
-- the TCP length prefix, which the caller has checked). Returns the
-- number of bytes used: all of tvb.
local function dissect_message(tvb, pinfo, tree, base)
    local n = tvb:len() - base
    local item = tree:add(dnsxfr, tvb())
    pinfo.cols.protocol = "DNSXFR"
    if base > 0 then
        item:add(f_length, tvb(0, base))
    end
    if n < HEADER_LEN then
        item:add_proto_expert_info(e_short)
        if n > 0 then
            item:add(f_data, tvb(base))
        end
        return tvb:len()
    end
    if tvb(base, 8):string() ~= MAGIC then
        item:add(f_magic, tvb(base, 8)):add_proto_expert_info(e_bad_magic)
        item:add(f_data, tvb(base))
        return tvb:len()
    end
    local ns = tvb(base + 8, 4)
    item:add(f_magic, tvb(base, 8))
    item:add(f_nameserver, ns)
    item:add(f_auth, ns, ns:uint() ~= 0):set_generated()
    item:append_text(", Nameserver: " .. tostring(ns:ipv4()))
    if n > HEADER_LEN then
        call_dns(tvb(base + HEADER_LEN):tvb(), pinfo, tree, base > 0)
        pinfo.cols.protocol = "DNSXFR"
    end
    return tvb:len()
end

local function looks_like_message(tvb, offset)
    return tvb:len() >= offset + HEADER_LEN and tvb(offset, 8):string() == MAGIC
end

-- The offset of the first LF within MAX_BANNER bytes of text, -1 when
-- the text goes on (no LF yet), nil when it is not a text line at all.
local function find_line_end(tvb)
    local n = math.min(tvb:len(), MAX_BANNER)
    for i = 0, n - 1 do
        local b = tvb(i, 1):uint()
        if b == 10 then
            return i
        end
        if (b < 32 or b > 126) and b ~= 13 and b ~= 9 then
            return nil
        end
    end
    return -1
end

local function tcp_pdu_len(tvb, pinfo, offset)
    return LENGTH_LEN + tvb(offset, LENGTH_LEN):uint()
end

local function tcp_pdu(tvb, pinfo, tree)
    dissect_message(tvb, pinfo, tree, LENGTH_LEN)
    -- Several messages in one segment: keep the Info text of each.
    pinfo.cols.info:append(" ")
    pinfo.cols.info:fence()
    return tvb:len()
end

-- The collector's side of a connection: its banner line, nothing else.
local function dissect_banner(tvb, pinfo, tree)
    local lf = find_line_end(tvb)
    if lf == -1 and tvb:len() < MAX_BANNER and pinfo.can_desegment > 0 then
        -- The banner line goes on in the next segment.
        pinfo.desegment_offset = 0
        pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
        return
    end
    local item = tree:add(dnsxfr, tvb())
    pinfo.cols.protocol = "DNSXFR"
    if lf == nil or lf == -1 then
        item:add(f_data, tvb()):add_proto_expert_info(e_banner)
        return tvb:len()
    end
    local text = tvb(0, lf):string():gsub("\r$", "")
    item:add(f_banner, tvb(0, lf + 1), text)
    item:append_text(", Banner: " .. text)
    pinfo.cols.info = "Banner: " .. text
    if tvb:len() > lf + 1 then
        item:add(f_data, tvb(lf + 1)):add_proto_expert_info(e_extra)
    end
    return tvb:len()
end

local function dissect_tcp(tvb, pinfo, tree)
    local key = tostring(pinfo.src) .. " " .. pinfo.src_port .. " " .. tostring(pinfo.dst)
        .. " " .. pinfo.dst_port
    local banner = directions[key]
    if banner == nil then
        -- The collector's side starts with its banner line, the sender's
        -- side with a length-prefixed message. Anything else (a capture
        -- that begins mid-stream) is taken as messages.
        banner = not looks_like_message(tvb, LENGTH_LEN) and find_line_end(tvb) ~= nil
        directions[key] = banner
    end
    if banner then
        return dissect_banner(tvb, pinfo, tree)
    end
    pinfo.cols.protocol = "DNSXFR"
    dissect_tcp_pdus(tvb, tree, LENGTH_LEN, tcp_pdu_len, tcp_pdu, true)
    return tvb:len()
end

local function dissect(tvb, pinfo, tree)
    if tvb:len() == 0 then
        return 0
    end
    if pinfo.port_type == PT_TCP then
        return dissect_tcp(tvb, pinfo, tree)
    end
    return dissect_message(tvb, pinfo, tree, 0)
end

dnsxfr.dissector = dissect

-- Heuristics. UDP: the magic at the start of the datagram, followed by at
-- least a DNS header. TCP: the first payload of a connection (either
-- side) is a length-prefixed DNSXFR01 message, a banner line that names
-- DNSXFR01, or the start of the usual banner cut by the segment's end;
-- the whole connection is then ours. They call dissect() directly: going
-- through the handle (dnsxfr.dissector) would use up the TCP
-- desegmentation that a banner cut in two needs.
local function heur_udp(tvb, pinfo, tree)
    if tvb:len() < HEADER_LEN + DNS_HEADER_LEN or tvb(0, 8):string() ~= MAGIC then
        return false
    end
    dissect(tvb, pinfo, tree)
    return true
end

local function heur_tcp(tvb, pinfo, tree)
    local ok = false
    if looks_like_message(tvb, LENGTH_LEN) then
        ok = tvb(0, LENGTH_LEN):uint() >= HEADER_LEN + DNS_HEADER_LEN
    else
        local lf = find_line_end(tvb)
        if lf ~= nil and lf >= 0 then
            ok = tvb(0, lf):string():find(MAGIC, 1, true) ~= nil
        elseif lf == -1 then
            local n = tvb:len()
            ok = n >= MIN_BANNER_PREFIX and n < #DEFAULT_BANNER
                and tvb():string() == DEFAULT_BANNER:sub(1, n)
        end
    end
    if not ok then
        return false
    end
    pinfo.conversation = dnsxfr
    dissect(tvb, pinfo, tree)
    return true
end

dnsxfr:register_heuristic("udp", heur_udp)
dnsxfr:register_heuristic("tcp", heur_tcp)

local udp_table = DissectorTable.get("udp.port")
local tcp_table = DissectorTable.get("tcp.port")
udp_table:add_for_decode_as(dnsxfr)
tcp_table:add_for_decode_as(dnsxfr)

local registered = { udp = 0, tcp = 0 }

function dnsxfr.prefs_changed()
    if registered.udp ~= dnsxfr.prefs.udp_port then
        if registered.udp ~= 0 then
            udp_table:remove(registered.udp, dnsxfr)
        end
        registered.udp = dnsxfr.prefs.udp_port
        if registered.udp ~= 0 then
            udp_table:add(registered.udp, dnsxfr)
        end
    end
    if registered.tcp ~= dnsxfr.prefs.tcp_port then
        if registered.tcp ~= 0 then
            tcp_table:remove(registered.tcp, dnsxfr)
        end
        registered.tcp = dnsxfr.prefs.tcp_port
        if registered.tcp ~= 0 then
            tcp_table:add(registered.tcp, dnsxfr)
        end
    end
end
