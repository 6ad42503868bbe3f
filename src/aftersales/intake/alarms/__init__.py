"""Monitoring alarms → service requests (issue 11 §3, SRQ-1 channel "alarm").

An integration key (per source, per customer or one project) sends events: a device (serial number,
or an external id mapped through DeviceAlias), an alarm type, raised or cleared, a time, a detail.

Rules, per (device, alarm type), decided by the EVENT time, so the result does not depend on the
order in which events arrive:

- raise, nothing known yet  → open a request (priority from AlarmPriorityRule) and insert the
  ActiveAlarm row in the same transaction; the row's unique key makes it one request even when
  raises arrive concurrently (the loser of the insert re-reads the row and appends instead);
- raise, alarm ongoing       → an ALARM_RAISED line on the open request (no new request); if the desk
  has closed or cancelled that request while the device kept alarming, a raise newer than the last one
  opens a new request (a retried or repeated raise with the same time is ignored);
- raise, alarm recovered     → newer than the recovery: the alarm is raised again (appended to the
  request if it is still open, else a new request); not newer: ignored (a late, superseded raise);
- clear, alarm ongoing       → the recovery is recorded on the request (ALARM_CLEARED); if nobody has
  been dispatched (state new/replied, no engineer) and the key closes recovered requests, the request
  is closed as recovered (state cancelled, with the recovery text); otherwise the desk decides;
- clear older than the raise, a second clear, a clear with nothing raised → ignored, with the reason.
On equal times the recovery wins (a retried raise after its clear opens nothing).

Every event is an AlarmEvent row with its outcome; one event is one transaction. An event for a
device we cannot find is stored as "unmatched" with the reason, for the desk to map and replay.

A replaced (retired) device's aliases move to the unit that replaced it in the repair's replace step, and an event
naming the old unit (its serial number, or an alias left behind) lands on the device in service, with a note; an
alarm open on the old device stays with it as history (`replacing`, issue 22 §3).

`keys`: integration keys (created, deactivated, checked on every event); `rules`: alarm types and the priority
rules; `receiving`: one event and the rules above; `desk`: mapping, replaying and setting aside unmatched events;
`replacing`: the aliases follow a replacement; `views`, `api_events` (the endpoint the sources call), `api` (the
desk's lists), `admin` and `urls`.
"""
