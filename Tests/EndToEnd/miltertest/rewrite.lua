-- A TCVN3 message through ThuGate's milter, as Debian's miltertest plays the MTA (issue 15).
-- Globals from -D: port, leadspc ("1": the MTA offers SMFIP_HDR_LEADSPC), subject (the encoded
-- Subject sent), bodyfile (the body sent), newsubject, normalized, newbody (what the proxy's own
-- `thugate normalize` made of the message: the milter's edits must say the same).
-- miltertest exits 1 on error() without printing it: say why first.
local function fail(why)
    mt.echo("FAIL " .. why)
    error(why)
end

local function check(result, what)
    if result ~= nil then fail(what .. ": " .. tostring(result)) end
end

local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 40, 0.25)
if conn == nil then fail("cannot connect to the milter") end
-- Postfix's offer, with or without the leading space.
local steps = 0x0FFFFF
if leadspc == "1" then steps = 0x1FFFFF end
-- miltertest 1.6.0 takes the protocol steps third and the actions fourth (its manual says the
-- other way round): what ThuGate logs at debug ("milter negotiated: ...") shows the offer.
check(mt.negotiate(conn, 6, steps, 0x1FF), "negotiate")
for _, action in ipairs({SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_CHGBODY}) do
    if not mt.test_action(conn, action) then fail("action not requested: " .. action) end
end
if mt.test_action(conn, SMFIF_ADDRCPT) or mt.test_action(conn, SMFIF_CHGFROM) then fail("an action ThuGate never uses was requested") end
if (leadspc == "1") ~= mt.test_option(conn, SMFIP_HDR_LEADSPC) then fail("HDR_LEADSPC not taken as offered") end
if mt.test_option(conn, SMFIP_NR_RCPT) then fail("RCPT must be answered") end

check(mt.macro(conn, SMFIC_CONNECT, "j", "mail.quangninh.gov.vn", "{client_addr}", "203.0.113.9", "v", "Postfix 3.7.11"), "macro")
check(mt.conninfo(conn, "client.example", "203.0.113.9"), "conninfo")
check(mt.helo(conn, "client.example"), "helo")
check(mt.macro(conn, SMFIC_MAIL, "i", "4MTQID1", "{mail_addr}", "vanthu@quangninh.gov.vn"), "macro")
check(mt.mailfrom(conn, "<vanthu@quangninh.gov.vn>", "BODY=8BITMIME"), "mailfrom")
check(mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "lanhdao@quangninh.gov.vn"), "macro")
check(mt.rcptto(conn, "<lanhdao@quangninh.gov.vn>"), "rcptto")
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("RCPT not answered continue") end
local space = ""
if leadspc == "1" then space = " " end
check(mt.header(conn, "From", space .. "Van thu <vanthu@quangninh.gov.vn>"), "header")
check(mt.header(conn, "To", space .. "lanhdao@quangninh.gov.vn"), "header")
check(mt.header(conn, "Subject", space .. subject), "header")
check(mt.header(conn, "MIME-Version", space .. "1.0"), "header")
check(mt.header(conn, "Content-Type", space .. "text/plain; charset=iso-8859-1"), "header")
check(mt.header(conn, "Content-Transfer-Encoding", space .. "8bit"), "header")
check(mt.eoh(conn), "eoh")
check(mt.bodyfile(conn, bodyfile), "bodyfile")
check(mt.eom(conn), "eom")
if mt.getreply(conn) ~= SMFIR_ACCEPT then fail("end of message not accepted") end

-- The Subject changed in place (its first instance), X-ThuGate-Normalized inserted at the top, the
-- body replaced by the proxy's own conversion (sent back in 65,535-byte chunks).
if not mt.eom_check(conn, MT_HDRCHANGE, "Subject", space .. newsubject) then fail("Subject not changed to " .. newsubject) end
if not mt.eom_check(conn, MT_HDRINSERT, "X-ThuGate-Normalized", space .. normalized, 0) then fail("X-ThuGate-Normalized not inserted at 0") end
local file = io.open(newbody, "rb")
local body = file:read("*a")
file:close()
-- miltertest keeps each SMFIR_REPLBODY packet on its own: every 1,000-byte slice of the converted
-- body must be one of them (the Postfix test checks the whole body as delivered).
if not mt.eom_check(conn, MT_BODYCHANGE) then fail("body not replaced") end
local slices = 0
for start = 1, #body, 1000 do
    if not mt.eom_check(conn, MT_BODYCHANGE, body:sub(start, start + 999)) then fail("body slice at " .. start .. " not sent") end
    slices = slices + 1
end
if slices < 200 then fail("only " .. slices .. " body packets") end
check(mt.disconnect(conn), "disconnect")
mt.echo("ok rewrite")
