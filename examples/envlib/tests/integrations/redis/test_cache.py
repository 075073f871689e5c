from envlib.cache import bump


def test_bump_counts(redis_client):
    redis_client.delete("envlib:n")
    assert bump(redis_client, "envlib:n") == 1
    assert bump(redis_client, "envlib:n") == 2
