-- Abort between two messages on one connection, then a refusal with ThuGate's reply (issue 15).
-- Globals from -D: port, eicarfile (a body with the EICAR test string), reply (the text of the
-- refusal expected: ASCII, since this MTA does not say it is Postfix).
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
-- Postfix's offer; miltertest takes the protocol steps third and the actions fourth.
check(mt.negotiate(conn, 6, 0x1FFFFF, 0x1FF), "negotiate")
check(mt.conninfo(conn, "client.example", "203.0.113.9"), "conninfo")
check(mt.helo(conn, "client.example"), "helo")
-- A first message given up halfway.
check(mt.mailfrom(conn, "<a@example.org>"), "mailfrom")
check(mt.rcptto(conn, "<lanhdao@quangninh.gov.vn>"), "rcptto")
check(mt.header(conn, "Subject", " bỏ dở"), "header")
check(mt.abort(conn), "abort")
-- The second one, on the same connection: its own envelope, its own bytes.
check(mt.mailfrom(conn, "<b@example.org>"), "mailfrom")
check(mt.rcptto(conn, "<lanhdao@quangninh.gov.vn>"), "rcptto")
check(mt.header(conn, "Subject", " virus"), "header")
check(mt.eoh(conn), "eoh")
check(mt.bodyfile(conn, eicarfile), "bodyfile")
check(mt.eom(conn), "eom")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then fail("no reply code for a virus") end
if not mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.0", reply) then fail("not refused 554 5.7.0 " .. reply) end
-- A third, clean message is accepted unchanged.
check(mt.mailfrom(conn, "<c@example.org>"), "mailfrom")
check(mt.rcptto(conn, "<lanhdao@quangninh.gov.vn>"), "rcptto")
check(mt.header(conn, "Subject", " sạch"), "header")
check(mt.eoh(conn), "eoh")
check(mt.bodystring(conn, "Kính gửi.\r\n"), "body")
check(mt.eom(conn), "eom")
if mt.getreply(conn) ~= SMFIR_ACCEPT then fail("clean message not accepted") end
if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_HDRINSERT) or mt.eom_check(conn, MT_BODYCHANGE) then
    fail("a clean message was changed")
end
check(mt.disconnect(conn), "disconnect")
mt.echo("ok abort")
