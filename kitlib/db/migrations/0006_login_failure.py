from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('kitlib', '0005_token_scope')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(db_index=True, max_length=330)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_failure', 'app': 'kitlib', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
