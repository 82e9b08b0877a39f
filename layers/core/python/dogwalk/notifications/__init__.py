"""Notifications: each domain event to its recipient's in-app inbox and preferred channels, once.

The outbox relay publishes every event to the events topic; SNS fans it out to one SQS queue per
channel (inbox, push, email, SMS; the SMS queue filters to the events worth a text), each with a
dead-letter queue. One consumer per queue (`functions/notifications/notify_*.py`) hands each record to
`deliveries.deliver`, which claims (event, recipient, channel) in `notification_deliveries` before
anything goes out, so an event delivered twice (SNS's at-least-once, a relay that crashed after
publishing, an SQS retry) reaches the user once. Quiet hours hold push and SMS back: the delivery is
stored `delayed` with its due time and the event, and the minute's sweep sends it then.

- `texts`: what each event says to its recipient (title, text, HTML email, link).
- `channels`: the one interface every channel implements, and the four of them.
- `deliveries`: the ledger, preferences and quiet hours, the delayed sweep.
- `inbox` and `preferences`: the in-app inbox and each user's channels and quiet hours.
- `registry`: the service's declarations.
- `push_devices`: push devices and their SNS platform endpoints; a token belongs to its latest user.
- `account_events`: the account's own emails (verification, reset, password changed, deleted), by
  email only and whatever the preferences, their single-use tokens made at delivery.
- `local_mailbox`: locally, every email the email channel sent, for `GET /_local/emails`.

Push goes through SNS mobile push (platform applications for FCM and APNs, one platform endpoint
per device) rather than calls to FCM and APNs from our functions:
- no provider key in our functions: the FCM service account and the APNs signing key (.p8) live in
  the platform applications; our functions need only `sns:Publish` and the endpoint actions;
- APNs's HTTP/2 connection, its JWT (token-based auth) renewal and FCM's OAuth token are SNS's job,
  not a Lambda's, whose connections do not outlive an invocation reliably;
- a token the provider calls invalid or unregistered disables its endpoint; the next publish meets
  `EndpointDisabled` and the device is forgotten;
- moto emulates platform applications, endpoints and publishes, so `make run` and the tests run the
  same code with no Apple or Google account.
The price: SNS's payload formats (the `GCM` key carries an FCM HTTP v1 `fcmV1Message`, `APNS` /
`APNS_SANDBOX` the APNs payload), built in `channels.push_message`.
"""
