def score(data, model, **kwargs):
    return data
