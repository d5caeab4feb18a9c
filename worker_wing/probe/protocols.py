"""The three prediction protocols a probe speaks: the request for a batch of
rows, and the predictions and data version read from the answer.

- `mlflow`: MLflow's scoring server, `POST {url}/invocations` with
  `{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`; answers
  `{"predictions": [...]}` (or a bare list, as MLflow 1 did).
- `v2`: the Open Inference Protocol (KServe, Triton, Seldon MLServer),
  `POST {url}/v2/models/{model_name}/infer`. Numeric features go as one FP64
  tensor `input-0` of shape [rows, features]; otherwise one tensor per column
  with MLServer's pandas content type. The first output holds the predictions.
- `json`: `POST {url}` with `{"instances": [{column: value, ...}, ...]}`;
  answers `{"predictions": [...]}`.

Freshness: an endpoint says which release its model was trained on with the
`X-Data-Version` header or a top-level `data_version` field (for v2, also
`parameters.data_version`). No Django here: probe workers use this module.
"""

from __future__ import annotations

import math
from typing import Any

PROTOCOLS = ("mlflow", "v2", "json")
DATA_VERSION_HEADER = "X-Data-Version"
DATA_VERSION_FIELD = "data_version"


class ResponseError(ValueError):
    """An answer that does not hold predictions; the message says what is wrong."""


def probe_url(protocol: str, url: str, model_name: str = "") -> str:
    """Where the protocol's request goes, from the URL a student registered: a
    base URL gets the protocol's path; a URL that already has it is kept."""
    base = url.rstrip("/")
    if protocol == "mlflow":
        return base if base.endswith("/invocations") else f"{base}/invocations"
    if protocol == "v2":
        if "/v2/models/" in base:
            return base
        if not model_name:
            raise ValueError("the v2 protocol needs the model's name (model_name)")
        return f"{base}/v2/models/{model_name}/infer"
    if protocol == "json":
        return url
    raise ValueError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def request_body(protocol: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    rows = [[_json_value(value) for value in row] for row in rows]
    if protocol == "mlflow":
        return {"dataframe_split": {"columns": columns, "data": rows}}
    if protocol == "json":
        return {"instances": [dict(zip(columns, row, strict=True)) for row in rows]}
    if protocol == "v2":
        return _v2_body(columns, rows)
    raise ValueError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _v2_body(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    if all(_is_number(value) for row in rows for value in row):
        flat = [value for row in rows for value in row]
        tensor = {"name": "input-0", "shape": [len(rows), len(columns)], "datatype": "FP64"}
        return {"inputs": [{**tensor, "data": flat}]}
    inputs = []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        numeric = all(_is_number(value) for value in values)
        inputs.append(
            {
                "name": column,
                "shape": [len(rows)],
                "datatype": "FP64" if numeric else "BYTES",
                "data": values if numeric else [str(value) for value in values],
            }
        )
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def _raw_predictions(protocol: str, payload: Any) -> Any:
    if protocol == "mlflow" and isinstance(payload, list):
        return payload
    if not isinstance(payload, dict):
        raise ResponseError(f"the answer is a JSON {type(payload).__name__}, not an object")
    if protocol == "v2":
        outputs = payload.get("outputs")
        if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], dict):
            raise ResponseError('the answer has no "outputs" list of tensors')
        return outputs[0].get("data")
    if "predictions" not in payload:
        raise ResponseError(
            f'the answer has no "predictions" field (it has: {", ".join(payload)[:200]})'
        )
    return payload["predictions"]


def _scalar(value: Any) -> Any:
    # [[0], [1]] from a column vector, or [{"label": 0}] from a one-column frame.
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ResponseError(f"a prediction is not a label or a finite number: {value!r:.80}")


def predictions_from(protocol: str, payload: Any, rows: int) -> list[Any]:
    """The answer's predictions, one label or number per row sent."""
    raw = _raw_predictions(protocol, payload)
    if not isinstance(raw, list):
        raise ResponseError(f"the predictions are a JSON {type(raw).__name__}, not a list")
    if len(raw) != rows:
        raise ResponseError(f"the answer has {len(raw)} predictions for {rows} rows")
    return [_scalar(value) for value in raw]


def data_version_from(payload: Any, headers: dict[str, str]) -> str:
    """The data version the endpoint reports, or '' when it reports none."""
    for name, value in headers.items():
        if name.lower() == DATA_VERSION_HEADER.lower():
            return value.strip()[:100]
    if isinstance(payload, dict):
        reported = payload.get(DATA_VERSION_FIELD)
        parameters = payload.get("parameters")
        if reported is None and isinstance(parameters, dict):
            reported = parameters.get(DATA_VERSION_FIELD)
        if reported is not None:
            return str(reported).strip()[:100]
    return ""
