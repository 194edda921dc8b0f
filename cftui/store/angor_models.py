"""Angor projects discovered over Nostr, with stages, investments and profiles.

Amounts are integer satoshis, times UTC unix seconds (ProjectInfo uses both).
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from cftui.store.models import BaseModel


class AngorProject(BaseModel):
    project_id = CharField(primary_key=True)  # angor1q...
    network = CharField()  # Main | Angornet
    name = TextField(null=True)  # from the kind-0 profile
    founder_key = CharField()
    founder_recovery_key = CharField(null=True)
    nostr_pubkey = CharField()
    event_id = CharField()  # the Nostr event we read ProjectInfo from
    event_pubkey = CharField()  # its author (should equal nostr_pubkey)
    event_kind = IntegerField()
    event_created = BigIntegerField()
    onchain_event_id = CharField(null=True)  # nostrEventId committed on-chain
    creation_txid = CharField(null=True)
    created_block = IntegerField(null=True)
    version = IntegerField(default=2)
    project_type = IntegerField(default=0)  # 0 Invest, 1 Fund, 2 Subscribe
    target_sats = BigIntegerField(default=0)
    start_time = BigIntegerField(null=True)
    end_time = BigIntegerField(null=True)  # null when none (values <= 0)
    expiry_time = BigIntegerField(null=True)
    penalty_days = IntegerField(default=0)
    penalty_threshold_sats = BigIntegerField(null=True)
    raised_sats = BigIntegerField(default=0)
    raised_source = CharField(null=True)  # "indexer" (gross, fee×100) | "esplora" (net stage sum)
    investor_count = IntegerField(default=0)
    founder_spent_sats = BigIntegerField(default=0)
    penalties_count = IntegerField(default=0)  # recovery-path spends paying the penalty script (P2WSH)
    penalties_sats = BigIntegerField(default=0)
    # Schema 5: recovery-path spends paid straight back to the investor (unfunded releases). NULL when the
    # source cannot tell them from penalties (the indexer) or they were not read yet (rows from schema 4).
    refunds_count = IntegerField(null=True)
    refunds_sats = BigIntegerField(null=True)
    status = CharField(default="upcoming")  # upcoming | funding | funded | failed | active | completed
    verified = BooleanField(default=False)
    flags = TextField(default="")  # comma-separated problems found by verification
    content = TextField()  # the raw ProjectInfo JSON
    stats_time = BigIntegerField(null=True)  # when funding stats were last read
    synced_time = BigIntegerField()


class AngorStage(BaseModel):
    id = AutoField()
    project = ForeignKeyField(AngorProject, backref="stages", on_delete="CASCADE")
    # The stage's number; as a field it hides Model.index() (building an index), which no stage needs.
    index = IntegerField()  # type: ignore[assignment]  # the column's name, kept (a schema change otherwise)
    release_time = BigIntegerField()
    percent = CharField()  # decimal text, 0-100
    amount_sats = BigIntegerField(default=0)
    released = BooleanField(default=False)  # release date has passed
    spent_sats = BigIntegerField(default=0)  # taken by the founder

    class Meta:
        indexes = ((("project", "index"), True),)


class AngorInvestment(BaseModel):
    id = AutoField()
    project = ForeignKeyField(AngorProject, backref="investments", on_delete="CASCADE")
    investor_key = CharField()
    txid = CharField()
    amount_sats = BigIntegerField()
    is_seeder = BooleanField(default=False)
    block_height = IntegerField(null=True)
    time = BigIntegerField(null=True)
    # Fund/Subscribe only (schema 4): the schedule the investment committed on chain.
    schedule_start = BigIntegerField(null=True)  # UTC unix seconds
    pattern_id = IntegerField(null=True)  # one of the project's dynamicStagePatterns
    stage_count = IntegerField(null=True)  # 0: the pattern's own
    # Schema 8, read from the chain (esplora): what the investor took back from the stage outputs
    # (``recovered``: refunds of unfunded stages and their own exits after the expiry; ``refunded``: the
    # refunds alone) and what went into the penalty lock. NULL: the source cannot tell (the indexer).
    recovered_sats = BigIntegerField(null=True)
    refunded_sats = BigIntegerField(null=True)
    penalty_sats = BigIntegerField(null=True)

    class Meta:
        indexes = ((("project", "txid"), True),)


class AngorProfile(BaseModel):
    pubkey = CharField(primary_key=True)  # nostrPubKey, x-only hex
    name = TextField(null=True)
    display_name = TextField(null=True)
    about = TextField(null=True)
    picture = TextField(null=True)
    banner = TextField(null=True)
    website = TextField(null=True)
    nip05 = TextField(null=True)
    lud16 = TextField(null=True)
    description = TextField(null=True)  # 30078 angor:project
    faq = TextField(null=True)  # 30078 angor:faq (JSON)
    members = TextField(null=True)  # 30078 angor:members (JSON)
    event_created = BigIntegerField(default=0)


ANGOR_MODELS = [AngorProject, AngorStage, AngorInvestment, AngorProfile]
