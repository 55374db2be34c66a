#!/usr/bin/env python3
"""The labelled set for the auto-forward rule (issue 13): deterministic .eml files, each with the
envelope it travels in, and `labels.jsonl` (one object a line: file, mail_from ("" = <>),
rcpt_to, expected refuse|deliver, signal (the trace the forwarding system writes; "" for a
negative), direction gov→gmail / gmail→gov / gov→gov / none, category, note).

    python3 Benchmarks/forwarding-eval/make_set.py --out /tmp/fwdset

The header blocks follow what each system writes (see /work/notes/forwarding-signals.md and
Sources/Policy/Forwarding/ForwardingSignals.swift for the sources): Gmail forwarding with the
`+caf_=` envelope sender, Exchange Online inbox rules (forward, redirect, forward as attachment)
and mailbox forwarding (ForwardingLoop, M365 `bounces+SRS=`), on-premises Exchange
(`X-MS-Exchange-Organization-AutoForwarded`), a Zimbra filter redirect, a Dovecot Pigeonhole
Sieve redirect, Postfix `.forward` / aliases (with and without postsrsd SRS), procmail/formail
`Resent-*`, `Auto-Submitted: auto-forwarded`. Each is made gov→gmail and gmail→gov (refuse) and
gov→gov (deliver). The negatives (deliver): hand forwards from Thunderbird, Outlook and Gmail web
(inline and as attachment, the attached original carrying forwarding headers), replies, vacation
replies, Exchange out-of-office, DSNs, calendar replies, mailing lists (Mailman 2 with Resent-*,
Google Groups, a list's `Auto-Submitted: auto-forwarded`), ESP bulk mail (SendGrid, Mailchimp,
SES, SparkPost), bodies mentioning the header names, plain letters.
"""
import argparse
import hashlib
import json
import os

# Parties. hoabinh.gov.vn / quangninh.gov.vn are state-issued (under gov.vn, the default
# state_suffixes); gmail.com, yahoo.com, example.com/.org are not.
GOV_USER = "nguyenvana@hoabinh.gov.vn"
GOV_OTHER = "nguyenvana@quangninh.gov.vn"
GOV_OFFICE = "vanphong@sotttt.quangninh.gov.vn"
GMAIL_PERSONAL = "nguyenvana.hb@gmail.com"
OUT_PERSON = "lethic.qn@gmail.com"
OUT_TARGET = "lethic@quangninh.gov.vn"
YAHOO = "tranvanb1980@yahoo.com"

DATE = "Tue, 1 Dec 2026 09:{:02d}:{:02d} +0700"


def h(seed, n=16):
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def b64ish(seed, n=40):
    import base64
    return base64.b64encode(hashlib.sha512(seed.encode()).digest()).decode()[:n]


def local(addr):
    return addr.split("@")[0]


def domain(addr):
    return addr.split("@")[1]


def caf(fwd, target):
    """Gmail's envelope sender when it forwards `fwd` into another domain."""
    return f"{local(fwd)}+caf_={local(target)}={domain(target)}@{domain(fwd)}"


def srs0(orig, forwarder_domain, seed):
    """postsrsd: SRS0=HHHH=TT=origdomain=origlocal@forwarder."""
    return f"SRS0={h(seed, 4).upper()}={b64ish(seed, 2).upper()}={domain(orig)}={local(orig)}@{forwarder_domain}"


def m365_srs(orig, forwarder_domain, seed):
    """Microsoft 365: bounces+SRS=hash=tt=origdomain=origlocal@forwarder's domain."""
    return f"bounces+SRS={h(seed, 5)}={b64ish(seed, 2).upper()}={domain(orig)}={local(orig)}@{forwarder_domain}"


def render(fields, body):
    text = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return (text + "\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")


SUBJECTS = ["Giấy mời họp giao ban tháng 12", "Báo cáo tình hình thực hiện nhiệm vụ quý IV",
            "Công văn số 1234/STTTT-VP", "Kế hoạch chuyển đổi số năm 2027", "Lịch công tác tuần 49"]


def original(seed, frm, to, subject=None, extra=()):
    """An original letter as it arrived at `to`'s server (its own Received / DKIM trace)."""
    subject = subject or SUBJECTS[int(h(seed, 2), 16) % len(SUBJECTS)]
    envelope = frm
    if "-bounces@" in frm:
        # A list message as the list server delivered it (envelope sender its -bounces address).
        frm = OUT_PERSON if to.endswith("gov.vn") else GOV_OFFICE
        extra = (("List-Id", f"<{local(envelope)[:-8]}.{domain(envelope)}>"), ("List-Post", f"<mailto:{local(envelope)[:-8]}@{domain(envelope)}>"),
                 ("Precedence", "list"), ("Sender", f"<{envelope}>"), *extra)
    elif frm.startswith("bounces+"):
        # ESP bulk mail (a VERP bounce envelope sender).
        frm = "news@example.com"
        extra = (("Precedence", "bulk"), ("List-Unsubscribe", "<https://example.com/unsub?u=1>"), *extra)
    mid = f"<{h(seed)}@{domain(frm)}>"
    mx = "mail." + domain(frm) if not domain(frm).endswith("gmail.com") else "mail-sor-f41.google.com"
    fields = [
        ("Received", f"from {mx} ({mx} [203.162.{int(h(seed,2),16)}.{int(h(seed+'x',2),16)}])\r\n\tby mx.{domain(to)} with ESMTPS id {h(seed+'q',10).upper()}\r\n\tfor <{to}>; " + DATE.format(1, 2)),
        ("DKIM-Signature", f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain(frm)}; s=mail;\r\n\th=from:to:subject:date:message-id; bh={b64ish(seed+'bh', 43)}=;\r\n\tb={b64ish(seed+'b', 64)}"),
        ("From", f"<{frm}>"),
        ("To", f"<{to}>"),
        ("Subject", subject),
        ("Date", DATE.format(1, 0)),
        ("Message-ID", mid),
        ("MIME-Version", "1.0"),
        *extra,
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    body = f"Kính gửi anh/chị,\n\n{subject}. Đề nghị các đơn vị chuẩn bị nội dung và gửi về trước ngày 05/12.\n\nTrân trọng.\n"
    return fields, body, mid, subject


# ---------------------------------------------------------------- forwarding systems
# Each returns (mail_from, rcpt_to, bytes). fwd = the mailbox that forwards, target = where to,
# orig = the original sender.

def gmail_forward(seed, fwd, target, orig, headers=True):
    fields, body, mid, _ = original(seed, orig, fwd)
    top = [("Received", f"by 2002:a05:6402:{h(seed,4)}:b0:{h(seed+'r',3)}:{h(seed+'s',4)} with SMTP id {h(seed+'id',10)}csp{int(h(seed,4),16)};\r\n\t" + DATE.format(1, 5))]
    if headers:
        top += [("X-Forwarded-To", target), ("X-Forwarded-For", f"{fwd} {target}")]
    top += [
        ("Delivered-To", fwd),
        ("Received", f"by 2002:a17:906:{h(seed,4)} with SMTP id {h(seed+'x',10)}; " + DATE.format(1, 4)),
        ("X-Google-Smtp-Source", b64ish(seed + "gs", 60)),
        ("ARC-Seal", f"i=1; a=rsa-sha256; t=1796090400; cv=none; d=google.com; s=arc-20240605;\r\n\tb={b64ish(seed+'as', 60)}"),
        ("ARC-Authentication-Results", f"i=1; mx.google.com;\r\n\tdkim=pass header.i=@{domain(orig)};\r\n\tspf=pass (google.com: domain of {orig} designates 203.162.1.2 as permitted sender) smtp.mailfrom={orig}"),
        ("Return-Path", f"<{orig}>"),
        ("Received-SPF", f"pass (google.com: domain of {orig} designates 203.162.1.2 as permitted sender) client-ip=203.162.1.2;"),
        ("Authentication-Results", f"mx.google.com; dkim=pass header.i=@{domain(orig)}; spf=pass smtp.mailfrom={orig}"),
    ]
    return caf(fwd, target), [target], render(top + fields, body)


def exchange_rule_forward(seed, fwd, target, orig, mode="forward"):
    fields, body, mid, subject = original(seed, orig, fwd)
    ms = f"SEYPR06MB{int(h(seed,4),16) % 9999:04d}.apcprd06.prod.outlook.com"
    common = [
        ("X-MS-Exchange-Inbox-Rules-Loop", fwd),
        ("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent"),
        ("Auto-Submitted", "auto-generated"),
        ("X-MS-Exchange-Parent-Message-Id", mid),
        ("X-MS-Has-Attach", "yes" if mode == "attach" else ""),
        ("X-MS-TNEF-Correlator", ""),
        ("x-ms-publictraffictype", "Email"),
        ("X-MS-Office365-Filtering-Correlation-Id", f"{h(seed,8)}-{h(seed+'a',4)}-{h(seed+'b',4)}-{h(seed+'c',4)}-{h(seed+'d',12)}"),
    ]
    received = [
        ("Received", f"from {ms} ([fe80::{h(seed,4)}]) by {ms}\r\n\t([fe80::{h(seed,4)}%7]) with mapi id 15.20.8207.017; " + DATE.format(2, 1)),
        ("ARC-Seal", f"i=1; a=rsa-sha256; s=arcselector10001; d=microsoft.com; cv=none;\r\n\tb={b64ish(seed+'arc', 60)}"),
    ]
    if mode == "redirect":
        # A redirect keeps the original; M365 rewrites the envelope sender (SRS) in the
        # forwarder's domain.
        top = received + [("X-MS-Exchange-Inbox-Rules-Loop", fwd)]
        return m365_srs(orig, domain(fwd), seed), [target], render(top + fields, body)
    head = received + [
        ("From", f"Nguyen Van A <{fwd}>"),
        ("To", f"<{target}>"),
        ("Subject", f"FW: {subject}"),
        ("Thread-Topic", subject),
        ("Thread-Index", b64ish(seed + "ti", 32)),
        ("Date", DATE.format(2, 1)),
        ("Message-ID", f"<{ms.split('.')[0]}{h(seed+'m',12).upper()}@{ms}>"),
        ("Accept-Language", "vi-VN, en-US"),
        ("Content-Language", "en-US"),
        *common,
        ("MIME-Version", "1.0"),
    ]
    if mode == "attach":
        boundary = "_004_" + h(seed, 24)
        raw = render(fields, body).decode()
        text = (f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n\n--{boundary}\n"
                f"Content-Type: message/rfc822\nContent-Disposition: attachment; filename=\"{subject}.eml\"\n\n{raw}\n--{boundary}--\n")
        head.append(("Content-Type", f"multipart/mixed; boundary=\"{boundary}\""))
        return fwd, [target], render(head, text)
    head += [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
    quoted = (f"\n\n________________________________\nFrom: {orig}\nSent: Tuesday, December 1, 2026 9:00 AM\n"
              f"To: Nguyen Van A <{fwd}>\nSubject: {subject}\n\n{body}")
    return fwd, [target], render(head, quoted)


def exchange_mailbox_forward(seed, fwd, target, orig, handled=False):
    fields, body, mid, _ = original(seed, orig, fwd)
    ms = f"TYZPR06MB{int(h(seed,4),16) % 9999:04d}.apcprd06.prod.outlook.com"
    loop = f"ForwardingHandled;{h(seed,8)}" if handled else f"{fwd};\r\n\t{h(seed,8)}-{h(seed+'1',4)}-{h(seed+'2',4)}-{h(seed+'3',4)}-{h(seed+'4',12)}"
    top = [
        ("Received", f"from {ms} (2603:1096:400::{h(seed,3)}) by {ms.replace('TYZ','SEY')} with HTTPS; " + DATE.format(3, 1)),
        ("ARC-Seal", f"i=2; a=rsa-sha256; s=arcselector10001; d=microsoft.com; cv=pass;\r\n\tb={b64ish(seed+'arc2', 60)}"),
        ("X-MS-Exchange-ForwardingLoop", loop),
        ("X-MS-Exchange-CrossTenant-Network-Message-Id", f"{h(seed,8)}-{h(seed+'n',4)}-{h(seed+'o',4)}-{h(seed+'p',4)}-{h(seed+'q',12)}"),
        ("X-MS-Exchange-CrossTenant-AuthAs", "Anonymous"),
        ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", ms),
    ]
    return m365_srs(orig, domain(fwd), seed), [target], render(top + fields, body)


def exchange_onprem_forward(seed, fwd, target, orig):
    fields, body, mid, _ = original(seed, orig, fwd)
    srv = "EXCH01." + domain(fwd)
    top = [
        ("Received", f"from {srv} (10.10.1.11) by EXCH02.{domain(fwd)} (10.10.1.12) with Microsoft SMTP Server\r\n\t(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.39; " + DATE.format(3, 3)),
        ("X-MS-Exchange-Organization-AutoForwarded", "true"),
        ("X-MS-Exchange-Organization-Network-Message-Id", f"{h(seed,8)}-{h(seed+'n',4)}-{h(seed+'o',4)}-{h(seed+'p',4)}-{h(seed+'q',12)}"),
        ("X-MS-Exchange-Organization-AuthSource", srv),
        ("X-MS-Exchange-Organization-AuthAs", "Anonymous"),
        ("X-MS-Exchange-Transport-EndToEndLatency", "00:00:00.4210000"),
    ]
    # On-premises Exchange forwards with the original envelope sender (no SRS).
    return orig, [target], render(top + fields, body)


def zimbra_redirect(seed, fwd, target, orig):
    fields, body, mid, _ = original(seed, orig, fwd, extra=[
        ("X-Mailer", "Zimbra 8.8.15_GA_4177 (ZimbraWebClient - GC119 (Win)/8.8.15_GA_4177)"),
        ("Thread-Index", b64ish(seed + "zt", 20)), ("Thread-Topic", "Lich cong tac")])
    srv = "mail." + domain(fwd)
    top = [
        ("Return-Path", f"<{orig}>"),
        ("Received", f"from {srv} (LHLO {srv}) (10.0.0.5) by {srv} with LMTP; " + DATE.format(4, 1)),
        ("X-Zimbra-Forwarded", fwd),
        ("Received", f"from localhost (localhost [127.0.0.1]) by {srv} (Postfix) with ESMTP id {h(seed,10).upper()}; " + DATE.format(4, 0)),
        ("X-Virus-Scanned", f"amavisd-new at {domain(fwd)}"),
        ("X-Spam-Flag", "NO"),
        ("X-Spam-Score", "-0.9"),
        ("X-Originating-IP", "[10.0.20.31]"),
    ]
    # Zimbra's redirect keeps the original envelope sender.
    return orig, [target], render(top + fields, body)


def sieve_redirect(seed, fwd, target, orig, srs=False):
    fields, body, mid, _ = original(seed, orig, fwd)
    srv = "mail." + domain(fwd)
    top = [
        ("Received", f"from {srv} by {srv} with LMTP id {b64ish(seed,22)} (envelope-from <{orig}>) for <{fwd}>; " + DATE.format(5, 1)),
        ("X-Sieve", "Pigeonhole Sieve 0.5.19"),
        ("X-Sieve-Redirected-From", fwd),
        ("Delivered-To", fwd),
        ("Received", f"from relay.{domain(orig)} by {srv} (Postfix) with ESMTPS id {h(seed,10).upper()} for <{fwd}>; " + DATE.format(5, 0)),
    ]
    sender = srs0(orig, domain(fwd), seed) if srs else orig
    return sender, [target], render(top + fields, body)


def postfix_forward(seed, fwd, target, orig, srs=False, targets=None):
    fields, body, mid, _ = original(seed, orig, fwd)
    srv = "mail." + domain(fwd)
    top = [
        ("Delivered-To", fwd),
        ("Received", f"from relay.{domain(orig)} (relay.{domain(orig)} [203.113.1.9])\r\n\tby {srv} (Postfix) with ESMTPS id 4Y{h(seed,10).upper()}\r\n\tfor <{fwd}>; " + DATE.format(6, 0)),
        ("X-Original-To", fwd),
    ]
    sender = srs0(orig, domain(fwd), seed) if srs else orig
    return sender, targets or [target], render(top + fields, body)


def resent_forward(seed, fwd, target, orig):
    fields, body, mid, _ = original(seed, orig, fwd)
    top = [
        ("Resent-From", f"<{fwd}>"),
        ("Resent-To", target),
        ("Resent-Date", DATE.format(7, 0)),
        ("Resent-Message-ID", f"<{h(seed+'rs')}.formail@{domain(fwd)}>"),
        ("Received", f"by mail.{domain(fwd)} (Postfix, from userid 1001) id {h(seed,10).upper()}; " + DATE.format(7, 0)),
    ]
    return fwd, [target], render(top + fields, body)


def auto_submitted_forward(seed, fwd, target, orig):
    fields, body, mid, _ = original(seed, orig, fwd)
    top = [
        ("Received", f"from qlvb.{domain(fwd)} (qlvb.{domain(fwd)} [10.1.1.20]) by mail.{domain(fwd)} with ESMTP; " + DATE.format(8, 0)),
        ("Auto-Submitted", "auto-forwarded"),
        ("Sender", f"<{fwd}>"),
    ]
    return fwd, [target], render(top + fields, body)


# ---------------------------------------------------------------- negatives

def hand_forward(seed, client, frm, to):
    ofields, obody, omid, subject = original(seed, OUT_PERSON if frm.endswith("gov.vn") else GOV_OFFICE, frm)
    mid = f"<{h(seed+'hf')}@{domain(frm)}>"
    if client == "thunderbird":
        head = [("Message-ID", mid), ("Date", DATE.format(9, 0)), ("MIME-Version", "1.0"),
                ("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "vi"), ("To", f"<{to}>"),
                ("From", f"Nguyen Van A <{frm}>"), ("Subject", f"Fwd: {subject}"),
                ("Content-Type", "text/plain; charset=UTF-8; format=flowed"), ("Content-Transfer-Encoding", "8bit")]
        body = (f"Gửi em tham khảo.\n\n\n-------- Forwarded Message --------\nSubject: \t{subject}\n"
                f"Date: \tTue, 1 Dec 2026 09:00:00 +0700\nFrom: \t{dict(ofields)['From']}\nTo: \t{frm}\n\n{obody}")
        return frm, [to], render(head, body)
    if client == "outlook":
        head = [("From", f"Nguyen Van A <{frm}>"), ("To", f"<{to}>"), ("Subject", f"FW: {subject}"),
                ("Thread-Topic", subject), ("Thread-Index", b64ish(seed + "ot", 32)), ("Date", DATE.format(9, 1)),
                ("Message-ID", mid), ("Accept-Language", "vi-VN, en-US"), ("X-MS-Has-Attach", ""),
                ("X-MS-TNEF-Correlator", ""), ("x-ms-publictraffictype", "Email"), ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
        body = (f"Chuyển anh xem.\n\n-----Original Message-----\nFrom: {dict(ofields)['From']}\n"
                f"Sent: Tuesday, December 1, 2026 9:00 AM\nTo: {frm}\nSubject: {subject}\n\n{obody}")
        return frm, [to], render(head, body)
    if client == "gmail-web":
        boundary = "000000000000" + h(seed, 16)
        head = [("MIME-Version", "1.0"), ("References", omid), ("In-Reply-To", omid), ("From", f"<{frm}>"),
                ("Date", DATE.format(9, 2)), ("Message-ID", f"<CA+{b64ish(seed,30)}@mail.gmail.com>"),
                ("Subject", f"Fwd: {subject}"), ("To", f"<{to}>"),
                ("X-Gm-Message-State", b64ish(seed + "gm", 50)), ("X-Google-Smtp-Source", b64ish(seed + "gs", 60)),
                ("Content-Type", f"multipart/alternative; boundary=\"{boundary}\"")]
        body = (f"--{boundary}\nContent-Type: text/plain; charset=\"UTF-8\"\n\n---------- Forwarded message ---------\n"
                f"From: <{dict(ofields)['From']}>\nDate: Tue, Dec 1, 2026 at 9:00 AM\nSubject: {subject}\nTo: <{frm}>\n\n{obody}\n"
                f"--{boundary}\nContent-Type: text/html; charset=\"UTF-8\"\n\n<div dir=\"ltr\"><div class=\"gmail_quote\">---------- Forwarded message ---------<br>{obody}</div></div>\n--{boundary}--\n")
        return frm, [to], render(head, body)
    # "attachment": Thunderbird "Forward as attachment"; the attached original is the copy that
    # had been auto-forwarded to the sender, so it carries every forwarding header.
    _, _, inner = gmail_forward(seed + "inner", GMAIL_PERSONAL if frm.endswith("gov.vn") else frm, frm, OUT_PERSON)
    inner = inner.decode().replace("\r\n", "\n")
    inner = ("X-MS-Exchange-Inbox-Rules-Loop: other@hoabinh.gov.vn\nX-Sieve-Redirected-From: other@hoabinh.gov.vn\n"
             "X-Zimbra-Forwarded: other@hoabinh.gov.vn\nAuto-Submitted: auto-forwarded\nResent-From: other@hoabinh.gov.vn\n"
             "Resent-To: x@gmail.com\n") + inner
    boundary = "------------" + h(seed, 24)
    head = [("Message-ID", mid), ("Date", DATE.format(9, 3)), ("MIME-Version", "1.0"), ("User-Agent", "Mozilla Thunderbird"),
            ("To", f"<{to}>"), ("From", f"Nguyen Van A <{frm}>"), ("Subject", f"Fwd: {subject}"),
            ("Content-Type", f"multipart/mixed; boundary=\"{boundary}\"")]
    body = (f"This is a multi-part message in MIME format.\n--{boundary}\nContent-Type: text/plain; charset=UTF-8\n\nXem thư đính kèm.\n"
            f"--{boundary}\nContent-Type: message/rfc822; name=\"{subject}.eml\"\nContent-Disposition: attachment; filename=\"{subject}.eml\"\n\n{inner}\n--{boundary}--\n")
    return frm, [to], render(head, body)


def reply(seed, frm, to):
    _, _, omid, subject = original(seed, to, frm)
    head = [("From", f"<{frm}>"), ("To", f"<{to}>"), ("Subject", f"Re: {subject}"), ("Date", DATE.format(10, 0)),
            ("Message-ID", f"<{h(seed+'re')}@{domain(frm)}>"), ("In-Reply-To", omid), ("References", omid),
            ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8")]
    return frm, [to], render(head, f"Dạ em đã nhận được.\n\nOn Tue, Dec 1, 2026 at 9:00 AM <{to}> wrote:\n> Kính gửi anh/chị,\n")


def vacation(seed, frm, to, kind):
    _, _, omid, subject = original(seed, to, frm)
    if kind == "sieve":
        head = [("Return-Path", "<>"), ("Delivered-To", frm), ("X-Sieve", "Pigeonhole Sieve 0.5.19"),
                ("Message-ID", f"<dovecot-sieve-{h(seed)}@mail.{domain(frm)}>"), ("Date", DATE.format(11, 0)),
                ("From", f"<{frm}>"), ("To", f"<{to}>"), ("Subject", f"Auto: {subject}"), ("Auto-Submitted", "auto-replied (vacation)"),
                ("Precedence", "bulk"), ("In-Reply-To", omid), ("References", omid), ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=utf-8")]
        return "", [to], render(head, "Tôi đang đi công tác đến ngày 10/12.\n")
    if kind == "zimbra":
        # Zimbra's out-of-office answers with the account as the envelope sender.
        head = [("From", f"<{frm}>"), ("To", f"<{to}>"), ("Subject", f"Re: {subject}"), ("Date", DATE.format(11, 1)),
                ("Message-ID", f"<{h(seed+'z')}@{domain(frm)}>"), ("In-Reply-To", omid), ("References", omid),
                ("Auto-Submitted", "auto-replied (zimbra; vacation)"), ("Precedence", "bulk"), ("X-Mailer", "Zimbra 8.8.15_GA_4177"),
                ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8")]
        return frm, [to], render(head, "Tôi đang nghỉ phép.\n")
    # Gmail vacation responder: envelope sender the account, Auto-Submitted: auto-replied.
    head = [("MIME-Version", "1.0"), ("From", f"<{frm}>"), ("To", f"<{to}>"), ("Subject", f"Re: {subject}"),
            ("Date", DATE.format(11, 2)), ("Message-ID", f"<CA+{b64ish(seed+'v',30)}@mail.gmail.com>"),
            ("In-Reply-To", omid), ("References", omid), ("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"),
            ("X-Autoreply", "yes"), ("Content-Type", "text/plain; charset=UTF-8")]
    return frm, [to], render(head, "Cảm ơn bạn, tôi sẽ trả lời sau.\n")


def exchange_oof(seed, frm, to, null=True, in_reply=True, template=None):
    """An Exchange out-of-office reply; `template`: an inbox rule's "reply using a specific
    message" with that subject (a real on-premises Exchange 2013 one has the mailbox as envelope
    sender and no In-Reply-To: /work/notes/exchange-samples.md S3)."""
    _, _, omid, subject = original(seed, to, frm)
    ms = f"SEYPR06MB{int(h(seed,4),16) % 9999:04d}.apcprd06.prod.outlook.com"
    head = [("From", f"Nguyen Van A <{frm}>"), ("To", f"<{to}>"), ("Subject", template or f"Automatic reply: {subject}"),
            ("Thread-Topic", subject), ("Thread-Index", b64ish(seed + "oof", 32)), ("Date", DATE.format(12, 0)),
            ("Message-ID", f"<{h(seed+'oof')}@{ms}>")]
    if in_reply:
        head += [("References", omid), ("In-Reply-To", omid)]
    head += [("Auto-Submitted", "auto-generated"), ("X-MS-Has-Attach", ""), ("X-Auto-Response-Suppress", "All"),
             ("X-MS-Exchange-Inbox-Rules-Loop", frm), ("X-MS-TNEF-Correlator", ""),
             ("x-ms-exchange-parent-message-id", omid), ("x-ms-exchange-generated-message-source", "Mailbox Rules Agent"),
             ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8")]
    return ("" if null else frm), [to], render(head, "Tôi đang vắng mặt đến ngày 10/12/2026.\n")


def dsn(seed, about_forward, rcpt):
    """A Postfix DSN to the original sender; the returned original may be a forwarded copy."""
    if about_forward:
        _, _, inner = gmail_forward(seed, GMAIL_PERSONAL, "nobody.here@yahoo.com", GOV_OFFICE)
    else:
        f, b, _, _ = original(seed, rcpt, "nobody.here@yahoo.com")
        inner = render(f, b)
    boundary = f"{h(seed,10).upper()}.1796090400/mail.hoabinh.gov.vn"
    head = [("Return-Path", "<>"), ("From", "MAILER-DAEMON@mail.hoabinh.gov.vn (Mail Delivery System)"),
            ("Subject", "Undelivered Mail Returned to Sender"), ("To", f"<{rcpt}>"), ("Auto-Submitted", "auto-replied"),
            ("MIME-Version", "1.0"), ("Content-Type", f"multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\""),
            ("Date", DATE.format(13, 0)), ("Message-Id", f"<20261201020000.{h(seed,10).upper()}@mail.hoabinh.gov.vn>")]
    body = (f"This is a MIME-encapsulated message.\n\n--{boundary}\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
            f"I'm sorry to have to inform you that your message could not be delivered.\n\n--{boundary}\nContent-Description: Delivery report\n"
            f"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mail.hoabinh.gov.vn\n\nFinal-Recipient: rfc822; nobody.here@yahoo.com\n"
            f"Action: failed\nStatus: 5.1.1\n\n--{boundary}\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
            f"{inner.decode().replace(chr(13), '')}\n--{boundary}--\n")
    return "", [rcpt], render(head, body)


def calendar_reply(seed, kind, frm, to):
    boundary = "000000000000" + h(seed, 16)
    ics = ("BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nVERSION:2.0\nCALSCALE:GREGORIAN\nMETHOD:REPLY\n"
           f"BEGIN:VEVENT\nDTSTART:20261203T013000Z\nDTEND:20261203T030000Z\nORGANIZER:mailto:{to}\n"
           f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{frm}\nUID:{h(seed)}@{domain(to)}\nSUMMARY:Họp giao ban\nEND:VEVENT\nEND:VCALENDAR\n")
    if kind == "google":
        head = [("MIME-Version", "1.0"), ("Reply-To", f"<{frm}>"), ("Sender", "Google Calendar <calendar-notification@google.com>"),
                ("Message-ID", f"<calendar-{h(seed)}@google.com>"), ("Date", DATE.format(14, 0)),
                ("Subject", "Accepted: Họp giao ban @ Thu Dec 3, 2026 8:30am"), ("From", f"<{frm}>"), ("To", f"<{to}>"),
                ("Content-Type", f"multipart/mixed; boundary=\"{boundary}\"")]
        body = (f"--{boundary}\nContent-Type: text/plain; charset=\"UTF-8\"\n\n{frm} has accepted this invitation.\n"
                f"--{boundary}\nContent-Type: text/calendar; charset=\"UTF-8\"; method=REPLY\n\n{ics}--{boundary}--\n")
        # Google Calendar sends with a bounce address of its calendar server.
        return f"3{h(seed,20)}@calendar-server.bounces.google.com", [to], render(head, body)
    head = [("From", f"<{frm}>"), ("To", f"<{to}>"), ("Subject", "Accepted: Họp giao ban"), ("Thread-Topic", "Họp giao ban"),
            ("Date", DATE.format(14, 1)), ("Message-ID", f"<{h(seed+'cal')}@{domain(frm)}>"), ("MIME-Version", "1.0"),
            ("Content-Type", "text/calendar; charset=\"utf-8\"; method=REPLY")]
    return frm, [to], render(head, ics.replace("Google Inc//Google Calendar 70.9054", "Microsoft Corporation//Outlook 16.0 MIMEDIR"))


def mailing_list(seed, kind, rcpt):
    f, b, mid, subject = original(seed, OUT_PERSON if rcpt.endswith("gov.vn") else GOV_OFFICE, "list@lists.example.org")
    f = [x for x in f if x[0] not in ("To",)]
    if kind == "mailman-resent":
        # Mailman 2 delivered through a Postfix alias (Delivered-To the list), with the Resent-*
        # fields an old list setup (SmartList style) writes.
        top = [("Delivered-To", "cntt-list@lists.example.org"), ("Resent-From", "cntt-list@lists.example.org"),
               ("Resent-To", rcpt), ("Resent-Date", DATE.format(15, 0))]
        extra = [("To", "cntt-list@lists.example.org"), ("List-Id", "Chuyen doi so <cntt-list.lists.example.org>"),
                 ("List-Unsubscribe", "<https://lists.example.org/mailman/options/cntt-list>"),
                 ("List-Post", "<mailto:cntt-list@lists.example.org>"), ("Precedence", "list"),
                 ("Errors-To", "cntt-list-bounces@lists.example.org"), ("Sender", "\"cntt-list\" <cntt-list-bounces@lists.example.org>")]
        return "cntt-list-bounces@lists.example.org", [rcpt], render(top + f + extra, b + "_______________________________________________\ncntt-list mailing list\n")
    if kind == "google-groups":
        extra = [("To", "sotttt-group@googlegroups.com"), ("X-Original-Sender", dict(f)["From"].strip("<>")),
                 ("Mailing-list", "list sotttt-group@googlegroups.com; contact sotttt-group+owners@googlegroups.com"),
                 ("List-ID", "<sotttt-group.googlegroups.com>"), ("Precedence", "list"), ("Delivered-To", "sotttt-group@googlegroups.com")]
        return f"sotttt-group+bncBDL{h(seed,20).upper()}@googlegroups.com", [rcpt], render(f + extra, b)
    # A small list server that prepends List-ID and Auto-Submitted: auto-forwarded on its fan-out.
    extra = [("To", "tin-tuc@lists.example.org"), ("List-ID", "<tin-tuc.lists.example.org>"),
             ("List-Post", "<mailto:tin-tuc@lists.example.org>"), ("Auto-Submitted", "auto-forwarded")]
    return "tin-tuc@lists.example.org", [rcpt], render(extra + f, b)


def esp(seed, kind, rcpt):
    senders = {
        "sendgrid": f"bounces+{int(h(seed,6),16)}-{h(seed,4)}-{rcpt.replace('@', '=')}@em1234.example.com",
        "mailchimp": f"bounce-mc.us5_{int(h(seed,6),16)}.{int(h(seed+'c',6),16)}-{rcpt.replace('@', '=')}@mail123.suw11.mcdlv.net",
        "ses": f"0100018c{h(seed,8)}-{h(seed+'s',8)}-{h(seed+'t',4)}-000000@amazonses.com",
        "sparkpost": f"msprvs1=19876{h(seed,6)}=bounces-123456@spmail.example.com",
    }
    head = [("From", "Example Shop <news@example.com>"), ("To", f"<{rcpt}>"), ("Subject", "Ưu đãi tháng 12"),
            ("Date", DATE.format(16, 0)), ("Message-ID", f"<{h(seed+'esp')}@example.com>"), ("MIME-Version", "1.0"),
            ("List-Unsubscribe", "<https://example.com/unsub?u=123>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Feedback-ID", f"{int(h(seed,4),16)}:{kind}"), ("Content-Type", "text/html; charset=utf-8")]
    return senders[kind], [rcpt], render(head, "<p>Giảm giá 50%</p>\n")


def mentions(seed, frm, to, where):
    lines = ("X-Forwarded-To: nguyenvana.hb@gmail.com\nX-Forwarded-For: nguyenvana@hoabinh.gov.vn nguyenvana.hb@gmail.com\n"
             "X-MS-Exchange-Inbox-Rules-Loop: nguyenvana@hoabinh.gov.vn\nX-MS-Exchange-ForwardingLoop: nguyenvana@hoabinh.gov.vn;abc\n"
             "X-Zimbra-Forwarded: nguyenvana@hoabinh.gov.vn\nX-Sieve-Redirected-From: nguyenvana@hoabinh.gov.vn\n"
             "Delivered-To: nguyenvana@hoabinh.gov.vn\nAuto-Submitted: auto-forwarded\nResent-From: nguyenvana@hoabinh.gov.vn\n"
             "Resent-To: nguyenvana.hb@gmail.com\n")
    head = [("From", f"Phong CNTT <{frm}>"), ("To", f"<{to}>"), ("Subject", "Hướng dẫn kiểm tra chuyển tiếp tự động"),
            ("Date", DATE.format(17, 0)), ("Message-ID", f"<{h(seed+'mn')}@{domain(frm)}>"), ("MIME-Version", "1.0")]
    if where == "body":
        head.append(("Content-Type", "text/plain; charset=utf-8"))
        return frm, [to], render(head, lines + "\nNếu thấy các dòng trên trong tiêu đề thư, hộp thư của anh/chị đang tự chuyển tiếp.\n")
    boundary = "b" + h(seed, 20)
    head.append(("Content-Type", f"multipart/mixed; boundary=\"{boundary}\""))
    body = (f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\nXem tệp đính kèm.\n--{boundary}\n"
            f"Content-Type: text/plain; charset=utf-8; name=\"headers.txt\"\nContent-Disposition: attachment; filename=\"headers.txt\"\n\n"
            f"{lines}--{boundary}\nContent-Type: text/rfc822-headers\n\n{lines}--{boundary}--\n")
    return frm, [to], render(head, body)


def plain(seed, frm, to, delivered=None):
    f, b, _, _ = original(seed, frm, to, extra=[("Delivered-To", delivered)] if delivered else ())
    return frm, [to], render(f, b)


# ---------------------------------------------------------------- the set

def cases():
    out = []  # (name, (mail_from, rcpt, bytes), expected, signal, direction, category, note)

    def add(name, made, expected, signal, direction, category, note):
        out.append((name, made, expected, signal, direction, category, note))

    # Directions: (direction, forwarder, target, expected). gov→gov twice: the original from a
    # state sender and from an outside one (systems that keep the original envelope sender).
    def dirs(out_fwd):
        return [("gov→gmail", GOV_USER, GMAIL_PERSONAL, GOV_OFFICE, "refuse", ""),
                ("gov→gmail", GOV_USER, YAHOO, OUT_PERSON, "refuse", "original from outside"),
                ("gmail→gov", out_fwd, OUT_TARGET, OUT_PERSON, "refuse", ""),
                ("gmail→gov", out_fwd, OUT_TARGET, GOV_OFFICE, "refuse", "original from a state sender"),
                ("gov→gov", GOV_USER, GOV_OTHER, GOV_OFFICE, "deliver", ""),
                ("gov→gov", GOV_USER, GOV_OTHER, OUT_PERSON, "deliver", "original from outside")]

    systems = [
        ("gmail", "gmail-x-forwarded", "lethic.qn@gmail.com", lambda s, f, t, o: gmail_forward(s, f, t, o),
         "Gmail forwarding (X-Forwarded-To/-For, +caf_= sender)"),
        ("gmail-caf", "gmail-caf-sender", "lethic.qn@gmail.com", lambda s, f, t, o: gmail_forward(s, f, t, o, headers=False),
         "Gmail forwarding with X-Forwarded-* removed on the way; only the +caf_= sender"),
        ("exchange-rule-fw", "exchange-inbox-rule", "le.c@example.com", lambda s, f, t, o: exchange_rule_forward(s, f, t, o),
         "Exchange Online inbox rule 'forward to' (FW:, Mailbox Rules Agent)"),
        ("exchange-rule-redirect", "exchange-inbox-rule", "le.c@example.com", lambda s, f, t, o: exchange_rule_forward(s, f, t, o, "redirect"),
         "Exchange Online inbox rule 'redirect to' (Rules-Loop, M365 SRS sender)"),
        ("exchange-rule-attach", "exchange-inbox-rule", "le.c@example.com", lambda s, f, t, o: exchange_rule_forward(s, f, t, o, "attach"),
         "Exchange Online inbox rule 'forward as attachment'"),
        ("exchange-mailbox", "exchange-forwarding-loop", "le.c@example.com", lambda s, f, t, o: exchange_mailbox_forward(s, f, t, o),
         "Exchange Online mailbox forwarding (ForwardingSmtpAddress): ForwardingLoop, bounces+SRS="),
        ("exchange-mailbox-handled", "exchange-forwarding-loop", "le.c@example.com", lambda s, f, t, o: exchange_mailbox_forward(s, f, t, o, True),
         "Exchange Online mailbox forwarding, ForwardingLoop: ForwardingHandled;id (no mailbox)"),
        ("exchange-onprem", "exchange-autoforwarded", "le.c@example.com", lambda s, f, t, o: exchange_onprem_forward(s, f, t, o),
         "on-premises Exchange forwarding: X-MS-Exchange-Organization-AutoForwarded, original envelope sender"),
        ("zimbra", "zimbra-forwarded", "le.c@example.com", lambda s, f, t, o: zimbra_redirect(s, f, t, o),
         "Zimbra filter redirect (X-Zimbra-Forwarded), original envelope sender"),
        ("sieve", "sieve-redirect", "le.c@example.org", lambda s, f, t, o: sieve_redirect(s, f, t, o),
         "Dovecot Pigeonhole Sieve redirect, original envelope sender"),
        ("sieve-srs", "sieve-redirect", "le.c@example.org", lambda s, f, t, o: sieve_redirect(s, f, t, o, srs=True),
         "Dovecot Pigeonhole Sieve redirect through postsrsd"),
        ("postfix-forward", "delivered-to-elsewhere", "le.c@example.org", lambda s, f, t, o: postfix_forward(s, f, t, o),
         "Postfix .forward (Delivered-To, X-Original-To), original envelope sender"),
        ("postfix-srs", "srs-sender", "le.c@example.org", lambda s, f, t, o: postfix_forward(s, f, t, o, srs=True),
         "Postfix .forward through postsrsd (SRS0=)"),
        ("resent", "resent-fields", "tranvanb1980@yahoo.com", lambda s, f, t, o: resent_forward(s, f, t, o),
         "procmail/formail resend (Resent-From/-To)"),
        ("auto-submitted", "auto-submitted-forwarded", "le.c@example.org", lambda s, f, t, o: auto_submitted_forward(s, f, t, o),
         "document system forwarding a copy as itself (Auto-Submitted: auto-forwarded)"),
    ]
    for system, signal, out_fwd, make, desc in systems:
        for i, (direction, fwd, target, orig, expected, extra) in enumerate(dirs(out_fwd)):
            name = f"pos/{system}-{direction.replace('→', '-to-')}-{i}"
            add(name, make(name, fwd, target, orig), expected, signal, direction, "forward:" + system,
                desc + (f"; {extra}" if extra else ""))
    # A forwarding mailbox forwards whatever arrives, list and bulk mail too: the forwarder's
    # trace is still there, on top of the list's or the ESP's.
    for system, signal, out_fwd, make, desc in systems:
        if system not in ("gmail", "exchange-rule-redirect", "exchange-mailbox", "zimbra", "sieve", "postfix-forward", "postfix-srs"):
            continue
        for kind in ("list", "bulk"):
            for direction, fwd, target in (("gov→gmail", GOV_USER, GMAIL_PERSONAL), ("gmail→gov", out_fwd, OUT_TARGET)):
                orig = (f"cntt-list-bounces@lists.example.org" if kind == "list"
                        else f"bounces+4711-ab12-{fwd.replace('@', '=')}@em1234.example.com")
                name = f"pos/{system}-of-{kind}-{direction.replace('→', '-to-')}"
                add(name, make(name, fwd, target, orig), "refuse", signal, direction, f"forward-of-{kind}:{system}",
                    desc + f"; the forwarded message is {'list mail (List-Id, Precedence: list)' if kind == 'list' else 'ESP bulk mail (Precedence: bulk, VERP sender)'}")

    # An alias that fans out to a state mailbox and an outside one in one transaction.
    add("pos/postfix-alias-mixed", postfix_forward("alias-mixed", GOV_USER, None, GOV_OFFICE, targets=[GOV_OTHER, GMAIL_PERSONAL]),
        "refuse", "delivered-to-elsewhere", "gov→gmail", "forward:postfix-alias", "Postfix alias to a state and an outside mailbox at once")
    add("pos/postfix-alias-mixed-srs", postfix_forward("alias-mixed-srs", GOV_USER, None, GOV_OFFICE, srs=True, targets=[GMAIL_PERSONAL, GOV_OTHER]),
        "refuse", "srs-sender", "gov→gmail", "forward:postfix-alias", "Postfix alias through postsrsd to an outside and a state mailbox")

    # Negatives.
    pairs = [(GOV_USER, GMAIL_PERSONAL), (OUT_PERSON, GOV_USER), (GOV_USER, GOV_OTHER)]
    for client in ["thunderbird", "outlook", "gmail-web", "attachment"]:
        for frm, to in pairs:
            name = f"neg/hand-forward-{client}-{local(frm)}-{domain(to).split('.')[0]}"
            add(name, hand_forward(name, client, frm, to), "deliver", "", "none", "hand-forward",
                f"a person's forward from {client}" + (" (the attached original carries every forwarding header)" if client == "attachment" else ""))
    for frm, to in pairs:
        name = f"neg/reply-{local(frm)}-{domain(to).split('.')[0]}"
        add(name, reply(name, frm, to), "deliver", "", "none", "reply", "a reply (Re:, In-Reply-To)")
    for kind in ["sieve", "zimbra", "gmail"]:
        for frm, to in [(GOV_USER, GMAIL_PERSONAL), (OUT_PERSON, GOV_USER)]:
            name = f"neg/vacation-{kind}-{local(frm)}"
            add(name, vacation(name, frm, to, kind), "deliver", "", "none", "vacation", f"{kind} vacation auto-reply (auto-replied)")
    for frm, to in [(GOV_USER, GMAIL_PERSONAL), ("le.c@example.com", GOV_USER)]:
        name = f"neg/exchange-oof-null-{local(frm)}"
        add(name, exchange_oof(name, frm, to), "deliver", "", "none", "exchange-oof", "Exchange OOF, null sender, Rules-Loop + Mailbox Rules Agent")
        name = f"neg/exchange-oof-sender-{local(frm)}"
        add(name, exchange_oof(name, frm, to, null=False), "deliver", "", "none", "exchange-oof", "Exchange OOF sent with the mailbox as envelope sender, In-Reply-To")
        name = f"neg/exchange-oof-noreplyto-{local(frm)}"
        add(name, exchange_oof(name, frm, to, null=False, in_reply=False), "deliver", "", "none", "exchange-oof",
            "OOF with the mailbox as sender and no In-Reply-To, only Exchange's parent id (as a template reply)")
        name = f"neg/exchange-template-reply-{local(frm)}"
        add(name, exchange_oof(name, frm, to, null=False, in_reply=False, template="Hồ sơ đã được tiếp nhận"), "deliver", "", "none",
            "exchange-oof", "an inbox rule's template reply: mailbox as sender, no In-Reply-To, parent id (real on-premises sample S3)")
    for about, rcpt in [(False, GMAIL_PERSONAL), (True, GMAIL_PERSONAL), (True, GOV_OTHER), (False, OUT_TARGET)]:
        name = f"neg/dsn-{'forwarded' if about else 'plain'}-{domain(rcpt).split('.')[0]}"
        add(name, dsn(name, about, rcpt), "deliver", "", "none", "dsn",
            "Postfix DSN (multipart/report, <>)" + (" returning an auto-forwarded copy" if about else ""))
    for kind, frm, to in [("google", OUT_PERSON, GOV_USER), ("outlook", GOV_USER, "le.c@example.com"), ("outlook", "le.c@example.com", GOV_USER)]:
        name = f"neg/calendar-{kind}-{local(frm)}"
        add(name, calendar_reply(name, kind, frm, to), "deliver", "", "none", "calendar-reply", f"{kind} calendar reply (METHOD:REPLY)")
    for kind in ["mailman-resent", "google-groups", "list-auto-forwarded"]:
        for rcpt in [GOV_USER, GMAIL_PERSONAL]:
            name = f"neg/list-{kind}-{domain(rcpt).split('.')[0]}"
            add(name, mailing_list(name, kind, rcpt), "deliver", "", "none", "mailing-list", f"list mail: {kind}")
    for kind in ["sendgrid", "mailchimp", "ses", "sparkpost"]:
        for rcpt in [GOV_USER, GMAIL_PERSONAL]:
            name = f"neg/esp-{kind}-{domain(rcpt).split('.')[0]}"
            add(name, esp(name, kind, rcpt), "deliver", "", "none", "esp-bulk", f"{kind} bulk mail, bounce envelope sender ≠ From")
    for where in ["body", "attachment"]:
        for frm, to in [(GOV_USER, GMAIL_PERSONAL), (GOV_USER, GOV_OTHER)]:
            name = f"neg/mentions-{where}-{domain(to).split('.')[0]}"
            add(name, mentions(name, frm, to, where), "deliver", "", "none", "mentions-headers", f"the header names in the {where}")
    for frm, to, delivered, note in [(GOV_USER, GMAIL_PERSONAL, None, "a plain letter gov→gmail"),
                                     (OUT_PERSON, GOV_USER, None, "a plain letter gmail→gov"),
                                     (OUT_PERSON, GOV_USER, GOV_USER, "Delivered-To the recipient itself (an internal hop before)"),
                                     (OUT_PERSON, GOV_USER, "nguyenvana+congvan@hoabinh.gov.vn", "Delivered-To the recipient's +detail")]:
        name = f"neg/plain-{local(frm)}-{domain(to).split('.')[0]}{'-dt' if delivered else ''}{'-detail' if delivered and '+' in delivered else ''}"
        add(name, plain(name, frm, to, delivered), "deliver", "", "none", "plain", note)
    # Microsoft 365 rewrites the envelope of ordinary mail relayed from an on-premises server whose
    # sender domain the tenant has not accepted (a real patch mail: exchange-samples.md S5).
    for frm, to in [("dev@corp-partner.example.com", GOV_USER), (GOV_USER, "doitac@example.com")]:
        name = f"neg/m365-hybrid-relay-{domain(to).split('.')[0]}"
        _, rcpt, raw = plain(name, frm, to)
        tenant = "hoabinhgov.onmicrosoft.com" if frm == GOV_USER else "corppartner.onmicrosoft.com"
        raw = b"X-MS-Exchange-CrossTenant-FromEntityHeader: HybridOnPrem\n" + raw
        add(name, (f"bounces+SRS={h(name, 5)}={b64ish(name, 2).upper()}@{tenant}", rcpt, raw), "deliver", "", "none", "relay",
            "an ordinary letter relayed from on-premises through Microsoft 365 with its bounces+SRS= sender")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    labels = []
    for name, (mail_from, rcpts, data), expected, signal, direction, category, note in cases():
        path = os.path.join(args.out, name + ".eml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        labels.append({"file": name + ".eml", "mail_from": mail_from, "rcpt_to": rcpts, "expected": expected,
                       "signal": signal, "direction": direction, "category": category, "note": note})
    with open(os.path.join(args.out, "labels.jsonl"), "w", encoding="utf-8") as f:
        for label in labels:
            f.write(json.dumps(label, ensure_ascii=False) + "\n")
    print(f"{len(labels)} messages in {args.out}")


if __name__ == "__main__":
    main()
