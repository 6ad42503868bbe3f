"""Issue 21 §12: a user's own robot (WebhookEndpoint.owner, Feishu robots), text messages (channel sms) and the
hourly SMS limit's index. The outbox constraints are rebuilt with the new channel and kind values."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_api_tokens'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0001_initial'),
        ('notify', '0004_drop_prefix_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='outboxmessage',
            name='outbox_channel_known',
        ),
        migrations.RemoveConstraint(
            model_name='outboxmessage',
            name='outbox_recipient_fits_channel',
        ),
        migrations.RemoveConstraint(
            model_name='webhookendpoint',
            name='webhook_kind_known',
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='sms',
            field=models.BooleanField(default=False, verbose_name='by text message'),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='owner',
            field=models.ForeignKey(blank=True, help_text="A user's own robot: it receives only the messages addressed to that user. Empty: a group robot.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('webhook', 'Chat robot / webhook'), ('inapp', 'In the application'), ('sms', 'Text message (SMS)')], max_length=10, verbose_name='channel'),
        ),
        migrations.AlterField(
            model_name='webhookendpoint',
            name='kind',
            field=models.CharField(choices=[('generic', 'Generic JSON POST'), ('wecom', 'WeCom group robot'), ('dingtalk', 'DingTalk group robot'), ('feishu', 'Feishu group robot')], default='generic', max_length=10, verbose_name='kind'),
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('channel', 'sms')), fields=['recipient_user', 'last_attempt_at'], name='outbox_sms_recent'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.CheckConstraint(condition=models.Q(('channel__in', ['email', 'webhook', 'inapp', 'sms'])), name='outbox_channel_known'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('channel', 'email'), ('endpoint__isnull', True), ('recipient_user__isnull', False), models.Q(('recipient_address', ''), _negated=True)), models.Q(('channel', 'inapp'), ('endpoint__isnull', True), ('recipient_user__isnull', False)), models.Q(('channel', 'sms'), ('endpoint__isnull', True), ('recipient_user__isnull', False)), models.Q(('channel', 'webhook'), ('endpoint__isnull', False), ('recipient_user__isnull', True)), _connector='OR'), name='outbox_recipient_fits_channel'),
        ),
        migrations.AddConstraint(
            model_name='webhookendpoint',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['generic', 'wecom', 'dingtalk', 'feishu'])), name='webhook_kind_known'),
        ),
        migrations.AddConstraint(
            model_name='webhookendpoint',
            constraint=models.UniqueConstraint(condition=models.Q(('owner__isnull', False)), fields=('owner',), name='webhook_one_per_owner'),
        ),
        migrations.AddConstraint(
            model_name='webhookendpoint',
            constraint=models.CheckConstraint(condition=models.Q(('owner__isnull', True), models.Q(('branch__isnull', True), ('customer__isnull', True)), _connector='OR'), name='webhook_personal_unscoped'),
        ),
    ]
