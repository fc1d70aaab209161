"""Probability distributions with PyTorch's ``torch.distributions`` API.

Parameters are chainrule tensors, so ``log_prob``, ``entropy``, ``cdf``, ``mean``, ``kl_divergence``
and (for ``has_rsample`` families) ``rsample`` are differentiable with respect to them. Draws come
from chainrule's generator (``chainrule.manual_seed``), not torch's: the same seed gives other
numbers than torch, with the same distribution.
"""

from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .continuous import Cauchy, Exponential, Laplace, Normal, StudentT, Uniform
from .continuous_extra import FisherSnedecor, GeneralizedPareto, VonMises
from .discrete import (
    Bernoulli,
    Binomial,
    Categorical,
    Geometric,
    Multinomial,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Poisson,
)
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Chi2, Dirichlet, Gamma
from .independent import Independent, MixtureSameFamily
from .kl import kl_divergence, register_kl
from .kl_extra import *  # noqa: F403 (registers the KL pairs of the newer families)
from .matrix import LKJCholesky, Wishart
from .multivariate_normal import LowRankMultivariateNormal, MultivariateNormal
from .negative_binomial import NegativeBinomial
from .positive import HalfCauchy, InverseGamma, Pareto, Weibull
from .transformed import (
    Gumbel,
    HalfNormal,
    LogNormal,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    TransformedDistribution,
)
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .unit_interval import ContinuousBernoulli, Kumaraswamy, LogisticNormal

__all__ = [
    "CatTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ReshapeTransform",
    "StackTransform",
    "ContinuousBernoulli",
    "Kumaraswamy",
    "LogisticNormal",
    "LKJCholesky",
    "Wishart",
    "FisherSnedecor",
    "GeneralizedPareto",
    "VonMises",
    "NegativeBinomial",
    "ExponentialFamily",
    "identity_transform",
    "transform_to",
    "biject_to",
    "SoftplusTransform",
    "PositiveDefiniteTransform",
    "OneHotCategoricalStraightThrough",
    "Weibull",
    "Pareto",
    "InverseGamma",
    "HalfCauchy",
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "Laplace",
    "LogNormal",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "SigmoidTransform",
    "SoftmaxTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "TransformedDistribution",
    "Transform",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
