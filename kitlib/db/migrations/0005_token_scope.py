from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0004_webinar_chapters')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiToken',
            name='scope',
            field=fields.CharField(default='api', max_length=8),
        ),
    ]
