import numpy as np
import pytest
import torch

from realhands.model import HandModel, load_model_data


@pytest.fixture(scope="session")
def right_data():
    return load_model_data("right")


@pytest.fixture(scope="session")
def left_data():
    return load_model_data("left")


@pytest.fixture(scope="session")
def right64(right_data):
    return HandModel(right_data, flat_hand_mean=True, dtype=torch.float64)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def cuda_available():
    return torch.cuda.is_available()
