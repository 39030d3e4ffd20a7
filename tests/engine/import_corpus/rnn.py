"""Recurrent classifiers: tuple unpacking and the last step out[:, -1, :]."""

import torch
from torch import nn


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 12, num_layers=2, batch_first=True, dropout=0.1)
        self.fc = nn.Linear(12, 4)

    def forward(self, tokens):
        out, (h, c) = self.lstm(self.embed(tokens))  # noqa: RUF059 (as users write it)
        return self.fc(out[:, -1, :])


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 10, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(20, 2)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


class Tagger(nn.Module):
    """Uses the whole output sequence: one prediction per step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 10, batch_first=True)
        self.fc = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


class TextConv(nn.Module):
    """A Conv1d over embeddings: tokens [N, T] to [N, T, D], transposed to [N, D, T]."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.conv = nn.Conv1d(8, 6, 3, padding=1)
        self.head = nn.Linear(6, 2)

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)
        x = torch.relu(self.conv(x)).transpose(1, 2)
        return self.head(x.amax(1))


class ElmanMean(nn.Module):
    """nn.RNN's outputs averaged over time."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(6, 5, num_layers=2, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out.mean(dim=1))
