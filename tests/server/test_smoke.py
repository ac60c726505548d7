from tests.server.conftest import Api


def test_smoke(api: Api) -> None:
    with api.client(api.admin) as client:
        assert client.get("/api/v1/runs").json() == {"jobRuns": []}
    with api.client() as client:
        assert client.get("/api/v1/runs").status_code == 401
