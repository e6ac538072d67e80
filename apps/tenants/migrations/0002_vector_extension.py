# pgvector lives in the public schema, which is on every tenant's search_path, so every tenant
# schema can declare vector columns without creating the extension per schema.
from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [VectorExtension()]
