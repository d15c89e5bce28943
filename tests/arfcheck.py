"""arfcheck.py ARF ORIGINAL [TO|-]: checks an abuse report with Python's email
package (a parser other than ours): multipart/report; report-type=
feedback-report, three parts, the feedback-report fields RFC 5965 requires,
the original's bytes unchanged in the third part, and To: when given.
Prints what is wrong and exits 1, or prints "ok" and the feedback fields."""
import email, email.policy, re, sys

arf = open(sys.argv[1], "rb").read()
orig = open(sys.argv[2], "rb").read()
want_to = sys.argv[3] if len(sys.argv) > 3 else "-"
m = email.message_from_bytes(arf, policy=email.policy.default)
errors = []
def need(cond, what):
    if not cond:
        errors.append(what)

need(m.is_multipart(), "not multipart")
need(m.get_content_type() == "multipart/report", "type %s" % m.get_content_type())
need(m.get_param("report-type") == "feedback-report", "report-type %s" % m.get_param("report-type"))
for h in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
    need(m[h] is not None, "no %s" % h)
need(not m.defects, "defects %s" % m.defects)
parts = m.get_payload()
need(len(parts) == 3, "%d parts" % len(parts))
if len(parts) == 3:
    need(parts[0].get_content_type() == "text/plain", "part 1 %s" % parts[0].get_content_type())
    need(parts[1].get_content_type() == "message/feedback-report", "part 2 %s" % parts[1].get_content_type())
    ctype = parts[2].get_content_type()
    need(ctype in ("message/rfc822", "text/rfc822-headers"), "part 3 %s" % ctype)
    # message/feedback-report is a message type: its fields are the sub-message's headers
    fb = parts[1].get_payload()[0] if parts[1].is_multipart() else email.message_from_bytes(parts[1].get_payload(decode=True) or b"")
    for f in ("Feedback-Type", "User-Agent", "Version"):
        need(fb[f] is not None, "no %s" % f)
    need(fb["Feedback-Type"] == "abuse", "Feedback-Type %s" % fb["Feedback-Type"])
    need(fb["Version"] == "1", "Version %s" % fb["Version"])
    # the third part's bytes, cut at the boundary Python found
    b = m.get_boundary().encode()
    eol = b"\r\n" if b"\r\n" in arf.split(b"\n", 1)[0] + b"\n" else b"\n"
    sections = arf.split(eol + b"--" + b)
    third = sections[3]
    body = third.split(eol + eol, 1)[1]
    want = orig if ctype == "message/rfc822" else orig.split(eol + eol, 1)[0] + eol
    need(body == want, "third part differs from the original (%d vs %d bytes)" % (len(body), len(want)))
    need(sections[4].startswith(b"--"), "no closing boundary")
    for k, v in fb.items():
        print("%s: %s" % (k, v))
    print("Content-3: %s" % ctype)
need(want_to == "-" or m["To"] == want_to, "To %s, wanted %s" % (m["To"], want_to))
if errors:
    print("ARF problems: " + "; ".join(errors))
    sys.exit(1)
print("ok")
