"""The seed models of examples/ and bench/models/ in PyTorch, with the
parameter names and layouts of Kiln's (conv1.weight, lstm.weight_ih_l0,
encoder.layers.0.self_attn.in_proj_weight, ...): PyTorch's side of every
comparison (test/parity, tools/compare, bench)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CNN(nn.Module):
    """examples/cnn.kiln (1 channel, side 28) and cnn_cifar.kiln (3, 32)."""

    def __init__(self, channels=1, side=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * (side // 4) ** 2, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, image):
        x = F.max_pool2d(F.relu(self.conv1(image)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


class MLP(nn.Module):
    """examples/mlp.kiln, with its gelu_tanh written as it is there."""

    def __init__(self, inputs=784, hidden=256, classes=10):
        super().__init__()
        self.hidden = nn.Linear(inputs, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, image):
        x = self.hidden(torch.flatten(image, 1))
        h = 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
        return self.out(h)


class LSTMClassifier(nn.Module):
    """examples/lstm.kiln, on character ids it makes one-hot; with
    one_hot=False, bench/models/lstm.kiln, on feature vectors."""

    def __init__(self, features=100, hidden=256, layers=2, classes=10, one_hot=True):
        super().__init__()
        self.features, self.one_hot = features, one_hot
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        if self.one_hot:
            x = F.one_hot(x, self.features).to(torch.get_default_dtype())
        steps, _ = self.lstm(x)
        # The last time step, padding included, as `steps[:, -1, :]` in Kiln.
        return self.fc(steps[:, -1, :])


class GRUClassifier(nn.Module):
    """examples/gru.kiln: LSTMClassifier with a GRU in place of the LSTM."""

    def __init__(self, features=100, hidden=256, layers=2, classes=10):
        super().__init__()
        self.features = features
        self.gru = nn.GRU(features, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, chars):
        x = F.one_hot(chars, self.features).to(torch.get_default_dtype())
        steps, _ = self.gru(x)
        return self.fc(steps[:, -1, :])


def sinusoidal_positions(length, dim):
    """As the PositionalEncoding of PyTorch's tutorials computes it, in the
    default dtype (so float32 tables are a little off the exact values):
    pe[p, 2i] = sin(p * w_i), pe[p, 2i + 1] = cos(p * w_i),
    w_i = exp(-2i * ln(10000) / dim)."""
    position = torch.arange(length).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(position * rate)
    pe[:, 1::2] = torch.cos(position * rate)
    return pe


class TransformerClassifier(nn.Module):
    """examples/transformer.kiln (length 16) and bench/models/transformer.kiln
    (length 64)."""

    def __init__(self, vocab=100, length=16, d_model=256, classes=10):
        super().__init__()
        # No padding_idx: Kiln's embedding has none, so row 0 is trained too.
        self.embedding = nn.Embedding(vocab, d_model)
        # Not persistent: the table is no parameter, and Kiln computes it.
        self.register_buffer("pe", sinusoidal_positions(length, d_model),
                             persistent=False)
        # Kiln's EncoderLayer is post-norm with ReLU and no dropout; its
        # attention has no padding mask, so neither has this one.
        layer = nn.TransformerEncoderLayer(d_model, 8, 4 * d_model, dropout=0.0,
                                           batch_first=True)
        # TransformerEncoder deep-copies `layer`: both layers start equal.
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.fc = nn.Linear(d_model, classes)

    def forward(self, chars):
        # No sqrt(d_model) scaling of the embedding, as in the Kiln example.
        x = self.encoder(self.embedding(chars) + self.pe)
        return self.fc(x.mean(dim=1))


class BasicBlock(nn.Module):
    """examples/resnet.kiln's BasicBlock (stride 1) and DownBlock (stride 2,
    with a 1x1 projection on the shortcut)."""

    def __init__(self, inputs, channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        if stride != 1:
            self.shortcut = nn.Conv2d(inputs, channels, 1, stride=stride,
                                      bias=False)
            self.shortcut_bn = nn.BatchNorm2d(channels)
        else:
            self.shortcut = None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        skip = x if self.shortcut is None else self.shortcut_bn(self.shortcut(x))
        return F.relu(skip + self.bn2(self.conv2(y)))


class ResNet(nn.Module):
    """examples/resnet.kiln: a stem, three stages of one block each (8, 16,
    32 channels), global average pooling."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, stride=2))
        self.layer3 = nn.Sequential(BasicBlock(16, 32, stride=2))
        self.fc = nn.Linear(32, classes)

    def forward(self, image):
        x = F.relu(self.bn1(self.conv1(image)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))
