"""Issue 11 §2, SRQ-1 channel "label": device QR labels (一机一码扫码报修).

Every device carries a random, unguessable `label_code` (assets.Device). The label printed for it holds a QR
code of the absolute URL of its scan page, and the device's name, model, serial number, location and the
service hotline. Whoever scans it either may report on the device as themselves (a customer's user of the
device's customer, or staff who see it: the portal form, pre-filled) or is treated as anonymous: a short
public form that opens an unverified request, rate-limited per device and per client address, whose only
answer is a tokened link to follow that one request. Nothing beyond what is printed on the label is shown
to an anonymous reporter.

`codes`: label codes, QR codes and the sheet; `reports`: the public report (input, rate limits), its follow
link, and the desk's confirmation of the reporter; `views`, `api` and `urls`: the pages and the desk's API.
"""
