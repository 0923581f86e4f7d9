from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("logic", "0023_network_quotas")]

    operations = [
        migrations.AddField(
            model_name="imagefetchgrant",
            name="payload",
            field=models.JSONField(
                blank=True, null=True, help_text="A personalisation grant's files (logic.personalisation); wiped when fetched."
            ),
        ),
    ]
