def test_healthz_reports_database_and_redis(anon, db, settings):
    response = anon.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    expected_redis = "ok" if settings.REDIS_URL else "not configured"
    assert body["redis"] == expected_redis
    assert body["status"] == "ok"
