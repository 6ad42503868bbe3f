"""SRQ-1 inbound mail: a message to the service mailbox opens a request, is added to one, or waits for the desk.

Where it happens: `parsing` (RFC 822 bytes to a `ParsedMail`, no database), `ingest` (stored first, one
transaction per message, retries), `matching` (who wrote it, which request or project it is about), `routing`
(what the message does: a request, a reply, a follow-up, or triage), `imap` (the mailbox poller), `triage` (the
desk's verbs for what waits), and the desk's `views`, `api` and `urls`.

The rules (lessons.md #5 and #6; docs/intake-mail.md says the same for administrators):

* **Stored first.** `ingest.ingest()` writes the raw bytes as an `InboundMail` row in its own transaction before
  anything is parsed. Its Message-ID is unique (a message without one gets `sha256:<hex of the raw bytes>`),
  so a second delivery of the same message finds the row and is only acknowledged.
* **One transaction per message** for the business effect (`ingest.process()`): the row is locked and moves out
  of STORED together with the request, timeline event and attachments it produced, or not at all. Files written
  to storage by a transaction that rolls back are deleted again. A processing error leaves the row STORED;
  it is retried by the worker (and by the next IMAP poll) up to `ingest.MAX_ATTEMPTS` times, then REJECTED.
* **Threading**: In-Reply-To / References naming one of our notifications (`OutboxMessage.message_id`) or an
  earlier inbound mail of a request; else a request number (`SR0000012`, with or without brackets) in the
  subject, looked up only among the sender's own customer's requests.
* **Who may add to a request**: a contact (user) of the request's customer, or staff who can see the request.
  Anyone else's reply waits in triage with the request as a suggestion.
* **Reopening by mail** (the state machine has no way out of CLOSED): a contact's reply to a closed or
  cancelled request opens a *follow-up request* in the same project, linked on both timelines, when
  - the request was closed at most `AFTERSALES_MAIL_REOPEN_DAYS` days ago (default 7), and
  - no follow-up of it was opened in the last `AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES` (default 60).
  While a follow-up is open, further replies to the old request are added to the follow-up. Otherwise the
  mail waits in triage with the reason.
* **Loop protection**: auto-replies (Auto-Submitted other than "no", X-Autoreply/X-Autorespond, Precedence
  bulk/junk/auto_reply, auto-reply subjects such as "自动回复:" / "Automatic reply:"), bounces and reports (multipart/report, null
  Return-Path, MAILER-DAEMON/postmaster senders), our own address (AFTERSALES_SERVICE_ADDRESS and the
  DEFAULT_FROM_EMAIL address) and echoes of our own notifications are stored as IGNORED and create nothing.
  Mail appended to a request notifies staff only when its sender is a customer contact, so two staff
  auto-responders cannot keep each other busy through us.
* **Chinese mail**: parts labelled gb2312/gbk (and aliases) are decoded as GB18030; RFC 2047 words too;
  unlabelled 8-bit text is read as UTF-8, else GB18030.
* **Attachments** pass `service.attachments.check_upload/store` (type sniffed, size limit); a refused one is
  named in the timeline text, the others are kept.
* **Malformed** (unparsable, no sender address): REJECTED with the reason, logged, nothing else written.
"""
