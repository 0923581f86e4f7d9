"""Compute microversions 2.90-2.100: a server's hostname, pinned availability zone and scheduler hints."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("logic", "0021_snapshots")]

    operations = [
        migrations.AddField(
            model_name="server",
            name="hostname",
            field=models.CharField(
                blank=True,
                help_text="Nova's hostname (2.90, FQDN from 2.94); None: the instance name.",
                max_length=255,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="server",
            name="pinned_availability_zone",
            field=models.CharField(
                blank=True, help_text="The availability zone the create asked for (Nova 2.96).", max_length=255, null=True
            ),
        ),
        migrations.AddField(
            model_name="server",
            name="scheduler_hints",
            field=models.JSONField(blank=True, default=dict, help_text="os:scheduler_hints of the create (Nova 2.100)."),
        ),
    ]
