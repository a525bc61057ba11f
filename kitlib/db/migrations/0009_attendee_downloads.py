from tortoise import migrations
from tortoise.migrations import operations as ops
from kitlib.models import JobKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0008_file_crc32')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AttendeeDownload',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('attendee', fields.ForeignKeyField('kitlib.Attendee', source_field='attendee_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=80)),
                ('label', fields.CharField(default='', max_length=255)),
                ('resource', fields.ForeignKeyField('kitlib.Resource', source_field='resource_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attendee_download', 'app': 'kitlib', 'indexes': [Index(fields=['attendee_id', 'key', 'expires_at'])], 'pk_attr': 'id', 'table_description': "A download counted against an attendee's link: which file or bundle, and the window"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='DownloadEvent',
            name='bundle',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.AlterField(
            model_name='Job',
            name='kind',
            field=fields.CharEnumField(description='EXTRACT: extract\nINDEX: index\nDELETE: delete\nMEDIA: media', enum_type=JobKind, max_length=16),
        ),
    ]
