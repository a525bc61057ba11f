from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0007_attendees')]

    initial = False

    operations = [
        ops.AddField(
            model_name='StoredFile',
            name='crc32',
            field=fields.BigIntField(null=True),
        ),
    ]
