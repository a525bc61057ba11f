from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from kitlib.models import Kind, Language, Role, Visibility
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Kit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=100)),
                ('title', fields.CharField(max_length=300)),
                ('description', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'kit', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Resource',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=300)),
                ('summary', fields.TextField(default='', unique=False)),
                ('language', fields.CharEnumField(default=Language.FR, description='FR: fr\nEN: en', enum_type=Language, max_length=2)),
                ('tags', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('kind', fields.CharEnumField(default=Kind.DOCUMENT, description='DOCUMENT: document\nRECORDING: recording\nSLIDES: slides\nTRANSCRIPT: transcript\nLINK: link', enum_type=Kind, max_length=16)),
                ('visibility', fields.CharEnumField(default=Visibility.MEMBERS, db_index=True, description='PUBLIC: public\nMEMBERS: members\nATTENDEES: attendees\nSTAFF: staff', enum_type=Visibility, max_length=16)),
                ('url', fields.CharField(default='', max_length=2000)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'resource', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KitItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kit', fields.ForeignKeyField('kitlib.Kit', source_field='kit_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('resource', fields.ForeignKeyField('kitlib.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='kit_items', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('note', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'kit_item', 'app': 'kitlib', 'unique_together': (('kit', 'resource'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StoredFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, max_length=64)),
                ('size', fields.BigIntField()),
                ('media_type', fields.CharField(max_length=255)),
                ('original_filename', fields.CharField(max_length=255)),
                ('storage_key', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'stored_file', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ResourceFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource', fields.ForeignKeyField('kitlib.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('file', fields.ForeignKeyField('kitlib.StoredFile', source_field='file_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('filename', fields.CharField(max_length=255)),
                ('position', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'resource_file', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(default='', max_length=200)),
                ('organisation', fields.CharField(default='', max_length=200)),
                ('role', fields.CharEnumField(default=Role.MEMBER, description='MEMBER: member\nSTAFF: staff', enum_type=Role, max_length=16)),
                ('password_hash', fields.CharField(default='', max_length=255)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('kitlib.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=12)),
                ('name', fields.CharField(default='', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('kitlib.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=64)),
                ('target_type', fields.CharField(default='', max_length=32)),
                ('target_id', fields.IntField(null=True)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_event', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DownloadEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('kitlib.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('resource', fields.ForeignKeyField('kitlib.Resource', source_field='resource_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('file', fields.ForeignKeyField('kitlib.StoredFile', source_field='file_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('bytes', fields.BigIntField()),
                ('complete', fields.BooleanField(default=True)),
            ],
            options={'table': 'download_event', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('kitlib.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'session', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Webinar',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=300)),
                ('description', fields.TextField(default='', unique=False)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('speakers', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('recording', fields.ForeignKeyField('kitlib.Resource', source_field='recording_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('slides', fields.ForeignKeyField('kitlib.Resource', source_field='slides_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('transcript', fields.ForeignKeyField('kitlib.Resource', source_field='transcript_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('kit', fields.ForeignKeyField('kitlib.Kit', source_field='kit_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webinar', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
