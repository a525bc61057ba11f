from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0003_media_duration')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Webinar',
            name='chapters',
            field=fields.JSONField(default=list),
        ),
    ]
