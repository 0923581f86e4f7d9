"""Backends of kind ``libvirt`` (plain libvirt/QEMU hosts) beside Ganeti clusters."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("logic", "0014_images")]

    operations = [
        migrations.AddField(
            model_name="backend",
            name="kind",
            field=models.CharField(
                choices=[("ganeti", "Ganeti cluster"), ("libvirt", "libvirt host")],
                default="ganeti",
                max_length=16,
                help_text="Which driver serves this backend (logic.drivers).",
            ),
        ),
        migrations.AddField(
            model_name="backend",
            name="libvirt_uri",
            field=models.CharField(blank=True, default="", max_length=255, help_text="libvirt connection URI (kind libvirt)."),
        ),
        # libvirt has no job queue: the driver numbers its operations per backend.
        migrations.AddField(
            model_name="backend",
            name="libvirt_last_job_id",
            field=models.BigIntegerField(default=0, help_text="Last job id given to an operation (kind libvirt)."),
        ),
    ]
