from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0006_login_failure')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attendee',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webinar', fields.ForeignKeyField('kitlib.Webinar', source_field='webinar_id', db_constraint=True, to_field='id', related_name='attendees', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(default='', max_length=200)),
                ('email', fields.CharField(max_length=254)),
                ('organisation', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('download_limit', fields.IntField(null=True)),
                ('downloads_used', fields.IntField(default=0)),
                ('link_version', fields.IntField(default=1)),
                ('first_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attendee', 'app': 'kitlib', 'unique_together': (('webinar', 'email'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='DownloadEvent',
            name='attendee',
            field=fields.ForeignKeyField('kitlib.Attendee', source_field='attendee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
