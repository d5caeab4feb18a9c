{% autoescape off %}"""An example submission to '{{ challenge.slug }}': get_estimator() returns an object
with fit(X, y) and predict(X). X holds the feature columns as a pandas DataFrame."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
{% if challenge.task_type == "classification" %}from sklearn.linear_model import LogisticRegression
{% else %}from sklearn.linear_model import Ridge
{% endif %}from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def get_estimator():
    numbers = make_pipeline(SimpleImputer(), StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    features = make_column_transformer(
        (numbers, make_column_selector(dtype_include="number")),
        (categories, make_column_selector(dtype_exclude="number")),
    )
{% if challenge.task_type == "classification" %}    return make_pipeline(features, LogisticRegression(max_iter=1000))
{% else %}    return make_pipeline(features, Ridge())
{% endif %}{% endautoescape %}
