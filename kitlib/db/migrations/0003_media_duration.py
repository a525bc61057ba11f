from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0002_search')]

    initial = False

    operations = [
        ops.AddField(
            model_name='StoredFile',
            name='duration',
            field=fields.FloatField(null=True),
        ),
    ]
