"""REINFORCE on a hand-written cart-pole, in the style of the pytorch/examples policy-gradient
program (without gym).

    python reinforce.py --episodes 8

The policy samples its action from ``torch.distributions.Categorical``; the uniform number that
picks the action comes from NumPy (``m.sample()`` would draw from each library's own random
stream), and the chosen action's ``m.log_prob`` enters the loss. Plain PyTorch: run it with
`python -m chainrule.run reinforce.py` to use chainrule. The initial weights, the starting states
and the action draws come from NumPy, so that one seed gives the same run under any library (with
--dropout 0: dropout masks come from each library's own random stream).
"""

import argparse
import math
from itertools import count

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical


class CartPole:
    """The classic cart-pole balancing task (Barto, Sutton and Anderson 1983), Euler-integrated as in
    gym's CartPole-v1: reward 1 per step until the pole leans past 12 degrees or the cart leaves
    +-2.4, or 500 steps pass."""

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold = 12 * 2 * math.pi / 360
    x_threshold = 2.4

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.state = None
        self.steps = 0

    def reset(self):
        self.state = self.rng.uniform(-0.05, 0.05, 4)
        self.steps = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        costheta, sintheta = math.cos(theta), math.sin(theta)
        temp = (force + polemass_length * theta_dot**2 * sintheta) / total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta**2 / total_mass)
        )
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * xacc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * thetaacc
        self.state = np.array([x, x_dot, theta, theta_dot])
        self.steps += 1
        terminated = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold)
        truncated = self.steps >= 500
        return self.state.astype(np.float32), 1.0, terminated, truncated, {}


class Policy(nn.Module):
    def __init__(self, dropout=0.6):
        super().__init__()
        self.affine1 = nn.Linear(4, 128)
        self.dropout = nn.Dropout(p=dropout)
        self.affine2 = nn.Linear(128, 2)

        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


def init_from_numpy(model, seed):
    """torch's default Linear bound (uniform in +-1/sqrt(fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                for p in (module.weight, module.bias):
                    p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def main():
    parser = argparse.ArgumentParser(description="PyTorch REINFORCE example")
    parser.add_argument(
        "--gamma", type=float, default=0.99, metavar="G", help="discount factor (default: 0.99)"
    )
    parser.add_argument("--seed", type=int, default=543, metavar="N", help="random seed (default: 543)")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.6)
    parser.add_argument("--log-interval", type=int, default=1, metavar="N")
    args = parser.parse_args()

    env = CartPole(args.seed)
    torch.manual_seed(args.seed)
    action_rng = np.random.default_rng(args.seed + 1)

    policy = Policy(args.dropout)
    init_from_numpy(policy, args.seed)
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)
    eps = np.finfo(np.float32).eps.item()

    def select_action(state):
        state = torch.from_numpy(state).float().unsqueeze(0)
        probs = policy(state)
        m = Categorical(probs)
        # inverse-CDF sampling with a NumPy uniform: the action m.sample() would draw
        u = action_rng.random()
        action = torch.tensor([int(u >= m.probs[0, 0].item())])
        policy.saved_log_probs.append(m.log_prob(action))
        return action.item()

    def finish_episode():
        R = 0
        policy_loss = []
        returns = []
        for r in policy.rewards[::-1]:
            R = r + args.gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]
        return policy_loss.item()

    running_reward = 10
    for i_episode in range(1, args.episodes + 1):
        state, _ = env.reset()
        ep_reward = 0
        for t in count(1):  # the episode ends when the pole falls or after 500 steps
            action = select_action(state)
            state, reward, terminated, truncated, _ = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if terminated or truncated:
                assert t == env.steps
                break

        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        loss = finish_episode()
        if i_episode % args.log_interval == 0:
            print(
                f"Episode {i_episode}\tLast reward: {ep_reward:.2f}\tAverage reward: {running_reward:.2f}"
                f"\tloss: {loss:.6f}"
            )
    with torch.no_grad():
        probs = policy(torch.zeros(1, 4))
        m = Categorical(probs)
        print(f"policy at rest: {probs[0, 0].item():.7f} {probs[0, 1].item():.7f}")
        print(f"entropy {m.entropy().item():.7f}")


if __name__ == "__main__":
    main()
