from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from kitlib.models import ExtractionStatus, JobKind, JobState
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='EXTRACT: extract\nINDEX: index\nDELETE: delete', enum_type=JobKind, max_length=16)),
                ('resource_id', fields.IntField(db_index=True)),
                ('state', fields.CharEnumField(default=JobState.QUEUED, db_index=True, description='QUEUED: queued\nRUNNING: running\nDONE: done\nFAILED: failed', enum_type=JobState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('run_after', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(default='', max_length=64)),
                ('locked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'job', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Resource',
            name='body_text',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Resource',
            name='cues',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Resource',
            name='extraction_error',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Resource',
            name='extraction_status',
            field=fields.CharEnumField(default=ExtractionStatus.NONE, description='PENDING: pending\nDONE: done\nFAILED: failed\nNONE: none', enum_type=ExtractionStatus, max_length=16),
        ),
    ]
