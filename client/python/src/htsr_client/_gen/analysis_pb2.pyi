from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DTYPE_UNSPECIFIED: _ClassVar[DType]
    DTYPE_F64: _ClassVar[DType]
    DTYPE_F32: _ClassVar[DType]
    DTYPE_F16: _ClassVar[DType]
    DTYPE_BF16: _ClassVar[DType]
    DTYPE_I64: _ClassVar[DType]
    DTYPE_I32: _ClassVar[DType]
    DTYPE_I16: _ClassVar[DType]
    DTYPE_I8: _ClassVar[DType]
    DTYPE_U8: _ClassVar[DType]
    DTYPE_BOOL: _ClassVar[DType]
    DTYPE_F8_E4M3: _ClassVar[DType]
    DTYPE_F8_E5M2: _ClassVar[DType]

class FixFingers(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIX_FINGERS_UNSPECIFIED: _ClassVar[FixFingers]
    FIX_FINGERS_NONE: _ClassVar[FixFingers]
    FIX_FINGERS_CLIP_XMAX: _ClassVar[FixFingers]

class Precision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRECISION_UNSPECIFIED: _ClassVar[Precision]
    PRECISION_F64: _ClassVar[Precision]
    PRECISION_F32: _ClassVar[Precision]

class FitType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIT_TYPE_UNSPECIFIED: _ClassVar[FitType]
    FIT_TYPE_POWER_LAW: _ClassVar[FitType]
    FIT_TYPE_TRUNCATED_POWER_LAW: _ClassVar[FitType]
    FIT_TYPE_EXTENDED_TPL: _ClassVar[FitType]

class LayerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_TYPE_UNSPECIFIED: _ClassVar[LayerType]
    LAYER_TYPE_DENSE: _ClassVar[LayerType]
    LAYER_TYPE_CONV1D: _ClassVar[LayerType]
    LAYER_TYPE_CONV2D: _ClassVar[LayerType]

class LayerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_STATUS_UNSPECIFIED: _ClassVar[LayerStatus]
    LAYER_STATUS_SUCCESS: _ClassVar[LayerStatus]
    LAYER_STATUS_SKIPPED: _ClassVar[LayerStatus]
    LAYER_STATUS_FAILED: _ClassVar[LayerStatus]

class LayerWarning(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_WARNING_NONE: _ClassVar[LayerWarning]
    LAYER_WARNING_OVER_TRAINED: _ClassVar[LayerWarning]
    LAYER_WARNING_UNDER_TRAINED: _ClassVar[LayerWarning]
    LAYER_WARNING_FAILED: _ClassVar[LayerWarning]
DTYPE_UNSPECIFIED: DType
DTYPE_F64: DType
DTYPE_F32: DType
DTYPE_F16: DType
DTYPE_BF16: DType
DTYPE_I64: DType
DTYPE_I32: DType
DTYPE_I16: DType
DTYPE_I8: DType
DTYPE_U8: DType
DTYPE_BOOL: DType
DTYPE_F8_E4M3: DType
DTYPE_F8_E5M2: DType
FIX_FINGERS_UNSPECIFIED: FixFingers
FIX_FINGERS_NONE: FixFingers
FIX_FINGERS_CLIP_XMAX: FixFingers
PRECISION_UNSPECIFIED: Precision
PRECISION_F64: Precision
PRECISION_F32: Precision
FIT_TYPE_UNSPECIFIED: FitType
FIT_TYPE_POWER_LAW: FitType
FIT_TYPE_TRUNCATED_POWER_LAW: FitType
FIT_TYPE_EXTENDED_TPL: FitType
LAYER_TYPE_UNSPECIFIED: LayerType
LAYER_TYPE_DENSE: LayerType
LAYER_TYPE_CONV1D: LayerType
LAYER_TYPE_CONV2D: LayerType
LAYER_STATUS_UNSPECIFIED: LayerStatus
LAYER_STATUS_SUCCESS: LayerStatus
LAYER_STATUS_SKIPPED: LayerStatus
LAYER_STATUS_FAILED: LayerStatus
LAYER_WARNING_NONE: LayerWarning
LAYER_WARNING_OVER_TRAINED: LayerWarning
LAYER_WARNING_UNDER_TRAINED: LayerWarning
LAYER_WARNING_FAILED: LayerWarning

class TensorMeta(_message.Message):
    __slots__ = ("name", "dtype", "shape", "low_rank", "low_rank_scale", "low_rank_fan_in_fan_out")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    LOW_RANK_FIELD_NUMBER: _ClassVar[int]
    LOW_RANK_SCALE_FIELD_NUMBER: _ClassVar[int]
    LOW_RANK_FAN_IN_FAN_OUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    low_rank: int
    low_rank_scale: float
    low_rank_fan_in_fan_out: bool
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., low_rank: _Optional[int] = ..., low_rank_scale: _Optional[float] = ..., low_rank_fan_in_fan_out: _Optional[bool] = ...) -> None: ...

class TensorChunk(_message.Message):
    __slots__ = ("tensor_index", "offset", "data", "name", "dtype", "shape", "client_error")
    TENSOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ERROR_FIELD_NUMBER: _ClassVar[int]
    tensor_index: int
    offset: int
    data: bytes
    name: str
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    client_error: str
    def __init__(self, tensor_index: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., name: _Optional[str] = ..., dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., client_error: _Optional[str] = ...) -> None: ...

class AnalysisOptions(_message.Message):
    __slots__ = ("min_evals", "max_evals", "max_n", "pool", "all_tensors", "fix_fingers", "finger_thresh", "max_fingers", "xmax_drop", "mp_fit", "randomize", "seed", "detx", "normalize", "precision", "reference_layer_set", "fit")
    MIN_EVALS_FIELD_NUMBER: _ClassVar[int]
    MAX_EVALS_FIELD_NUMBER: _ClassVar[int]
    MAX_N_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    ALL_TENSORS_FIELD_NUMBER: _ClassVar[int]
    FIX_FINGERS_FIELD_NUMBER: _ClassVar[int]
    FINGER_THRESH_FIELD_NUMBER: _ClassVar[int]
    MAX_FINGERS_FIELD_NUMBER: _ClassVar[int]
    XMAX_DROP_FIELD_NUMBER: _ClassVar[int]
    MP_FIT_FIELD_NUMBER: _ClassVar[int]
    RANDOMIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    DETX_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_LAYER_SET_FIELD_NUMBER: _ClassVar[int]
    FIT_FIELD_NUMBER: _ClassVar[int]
    min_evals: int
    max_evals: int
    max_n: int
    pool: bool
    all_tensors: bool
    fix_fingers: FixFingers
    finger_thresh: float
    max_fingers: int
    xmax_drop: int
    mp_fit: bool
    randomize: bool
    seed: int
    detx: bool
    normalize: bool
    precision: Precision
    reference_layer_set: bool
    fit: FitType
    def __init__(self, min_evals: _Optional[int] = ..., max_evals: _Optional[int] = ..., max_n: _Optional[int] = ..., pool: _Optional[bool] = ..., all_tensors: _Optional[bool] = ..., fix_fingers: _Optional[_Union[FixFingers, str]] = ..., finger_thresh: _Optional[float] = ..., max_fingers: _Optional[int] = ..., xmax_drop: _Optional[int] = ..., mp_fit: _Optional[bool] = ..., randomize: _Optional[bool] = ..., seed: _Optional[int] = ..., detx: _Optional[bool] = ..., normalize: _Optional[bool] = ..., precision: _Optional[_Union[Precision, str]] = ..., reference_layer_set: _Optional[bool] = ..., fit: _Optional[_Union[FitType, str]] = ...) -> None: ...

class AnalyzeHeader(_message.Message):
    __slots__ = ("model_name", "options", "tensors", "keep_evals", "layer_ids")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    KEEP_EVALS_FIELD_NUMBER: _ClassVar[int]
    LAYER_IDS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    options: AnalysisOptions
    tensors: _containers.RepeatedCompositeFieldContainer[TensorMeta]
    keep_evals: bool
    layer_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model_name: _Optional[str] = ..., options: _Optional[_Union[AnalysisOptions, _Mapping]] = ..., tensors: _Optional[_Iterable[_Union[TensorMeta, _Mapping]]] = ..., keep_evals: _Optional[bool] = ..., layer_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class AnalyzeRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: AnalyzeHeader
    chunk: TensorChunk
    def __init__(self, header: _Optional[_Union[AnalyzeHeader, _Mapping]] = ..., chunk: _Optional[_Union[TensorChunk, _Mapping]] = ...) -> None: ...

class LayerPlan(_message.Message):
    __slots__ = ("layer_id", "name", "type", "rows", "cols", "n", "m", "rf", "num_evals", "analyse", "skip_reason", "tensor_index")
    LAYER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COLS_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    RF_FIELD_NUMBER: _ClassVar[int]
    NUM_EVALS_FIELD_NUMBER: _ClassVar[int]
    ANALYSE_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    TENSOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    layer_id: int
    name: str
    type: LayerType
    rows: int
    cols: int
    n: int
    m: int
    rf: int
    num_evals: int
    analyse: bool
    skip_reason: str
    tensor_index: int
    def __init__(self, layer_id: _Optional[int] = ..., name: _Optional[str] = ..., type: _Optional[_Union[LayerType, str]] = ..., rows: _Optional[int] = ..., cols: _Optional[int] = ..., n: _Optional[int] = ..., m: _Optional[int] = ..., rf: _Optional[int] = ..., num_evals: _Optional[int] = ..., analyse: _Optional[bool] = ..., skip_reason: _Optional[str] = ..., tensor_index: _Optional[int] = ...) -> None: ...

class ModelPlan(_message.Message):
    __slots__ = ("layers", "requested_tensors")
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_TENSORS_FIELD_NUMBER: _ClassVar[int]
    layers: _containers.RepeatedCompositeFieldContainer[LayerPlan]
    requested_tensors: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, layers: _Optional[_Iterable[_Union[LayerPlan, _Mapping]]] = ..., requested_tensors: _Optional[_Iterable[int]] = ...) -> None: ...

class LayerResult(_message.Message):
    __slots__ = ("plan", "status", "warning", "reason", "q", "norm", "log_norm", "spectral_norm", "log_spectral_norm", "alpha", "alpha_weighted", "log_alpha_norm", "d", "sigma", "xmin", "xmax", "num_pl_spikes", "stable_rank", "matrix_rank", "entropy", "sv_max", "sv_min", "rank_loss", "weak_rank_loss", "has_esd", "tpl_r", "tpl_p", "num_fingers", "raw_alpha", "num_spikes", "sigma_mp", "mp_softrank", "bulk_min", "bulk_max", "w_scale", "max_rand_eval", "rand_distance", "ww_softrank", "rand_num_spikes", "rand_sigma_mp", "rand_mp_softrank", "rand_bulk_max", "ww_maxdist", "num_traps", "rand_bulk_min", "rand_w_scale", "detx_num", "detx_val", "detx_val_unrescaled", "num_erg_spikes", "erg_gap", "evals", "seconds", "slice_id")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    NORM_FIELD_NUMBER: _ClassVar[int]
    LOG_NORM_FIELD_NUMBER: _ClassVar[int]
    SPECTRAL_NORM_FIELD_NUMBER: _ClassVar[int]
    LOG_SPECTRAL_NORM_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    ALPHA_WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    LOG_ALPHA_NORM_FIELD_NUMBER: _ClassVar[int]
    D_FIELD_NUMBER: _ClassVar[int]
    SIGMA_FIELD_NUMBER: _ClassVar[int]
    XMIN_FIELD_NUMBER: _ClassVar[int]
    XMAX_FIELD_NUMBER: _ClassVar[int]
    NUM_PL_SPIKES_FIELD_NUMBER: _ClassVar[int]
    STABLE_RANK_FIELD_NUMBER: _ClassVar[int]
    MATRIX_RANK_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_FIELD_NUMBER: _ClassVar[int]
    SV_MAX_FIELD_NUMBER: _ClassVar[int]
    SV_MIN_FIELD_NUMBER: _ClassVar[int]
    RANK_LOSS_FIELD_NUMBER: _ClassVar[int]
    WEAK_RANK_LOSS_FIELD_NUMBER: _ClassVar[int]
    HAS_ESD_FIELD_NUMBER: _ClassVar[int]
    LAMBDA_FIELD_NUMBER: _ClassVar[int]
    TPL_R_FIELD_NUMBER: _ClassVar[int]
    TPL_P_FIELD_NUMBER: _ClassVar[int]
    NUM_FINGERS_FIELD_NUMBER: _ClassVar[int]
    RAW_ALPHA_FIELD_NUMBER: _ClassVar[int]
    NUM_SPIKES_FIELD_NUMBER: _ClassVar[int]
    SIGMA_MP_FIELD_NUMBER: _ClassVar[int]
    MP_SOFTRANK_FIELD_NUMBER: _ClassVar[int]
    BULK_MIN_FIELD_NUMBER: _ClassVar[int]
    BULK_MAX_FIELD_NUMBER: _ClassVar[int]
    W_SCALE_FIELD_NUMBER: _ClassVar[int]
    MAX_RAND_EVAL_FIELD_NUMBER: _ClassVar[int]
    RAND_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    WW_SOFTRANK_FIELD_NUMBER: _ClassVar[int]
    RAND_NUM_SPIKES_FIELD_NUMBER: _ClassVar[int]
    RAND_SIGMA_MP_FIELD_NUMBER: _ClassVar[int]
    RAND_MP_SOFTRANK_FIELD_NUMBER: _ClassVar[int]
    RAND_BULK_MAX_FIELD_NUMBER: _ClassVar[int]
    WW_MAXDIST_FIELD_NUMBER: _ClassVar[int]
    NUM_TRAPS_FIELD_NUMBER: _ClassVar[int]
    RAND_BULK_MIN_FIELD_NUMBER: _ClassVar[int]
    RAND_W_SCALE_FIELD_NUMBER: _ClassVar[int]
    DETX_NUM_FIELD_NUMBER: _ClassVar[int]
    DETX_VAL_FIELD_NUMBER: _ClassVar[int]
    DETX_VAL_UNRESCALED_FIELD_NUMBER: _ClassVar[int]
    NUM_ERG_SPIKES_FIELD_NUMBER: _ClassVar[int]
    ERG_GAP_FIELD_NUMBER: _ClassVar[int]
    EVALS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SLICE_ID_FIELD_NUMBER: _ClassVar[int]
    plan: LayerPlan
    status: LayerStatus
    warning: LayerWarning
    reason: str
    q: float
    norm: float
    log_norm: float
    spectral_norm: float
    log_spectral_norm: float
    alpha: float
    alpha_weighted: float
    log_alpha_norm: float
    d: float
    sigma: float
    xmin: float
    xmax: float
    num_pl_spikes: int
    stable_rank: float
    matrix_rank: int
    entropy: float
    sv_max: float
    sv_min: float
    rank_loss: int
    weak_rank_loss: int
    has_esd: bool
    tpl_r: float
    tpl_p: float
    num_fingers: int
    raw_alpha: float
    num_spikes: int
    sigma_mp: float
    mp_softrank: float
    bulk_min: float
    bulk_max: float
    w_scale: float
    max_rand_eval: float
    rand_distance: float
    ww_softrank: float
    rand_num_spikes: int
    rand_sigma_mp: float
    rand_mp_softrank: float
    rand_bulk_max: float
    ww_maxdist: float
    num_traps: int
    rand_bulk_min: float
    rand_w_scale: float
    detx_num: int
    detx_val: float
    detx_val_unrescaled: float
    num_erg_spikes: int
    erg_gap: float
    evals: _containers.RepeatedScalarFieldContainer[float]
    seconds: float
    slice_id: int
    def __init__(self, plan: _Optional[_Union[LayerPlan, _Mapping]] = ..., status: _Optional[_Union[LayerStatus, str]] = ..., warning: _Optional[_Union[LayerWarning, str]] = ..., reason: _Optional[str] = ..., q: _Optional[float] = ..., norm: _Optional[float] = ..., log_norm: _Optional[float] = ..., spectral_norm: _Optional[float] = ..., log_spectral_norm: _Optional[float] = ..., alpha: _Optional[float] = ..., alpha_weighted: _Optional[float] = ..., log_alpha_norm: _Optional[float] = ..., d: _Optional[float] = ..., sigma: _Optional[float] = ..., xmin: _Optional[float] = ..., xmax: _Optional[float] = ..., num_pl_spikes: _Optional[int] = ..., stable_rank: _Optional[float] = ..., matrix_rank: _Optional[int] = ..., entropy: _Optional[float] = ..., sv_max: _Optional[float] = ..., sv_min: _Optional[float] = ..., rank_loss: _Optional[int] = ..., weak_rank_loss: _Optional[int] = ..., has_esd: _Optional[bool] = ..., tpl_r: _Optional[float] = ..., tpl_p: _Optional[float] = ..., num_fingers: _Optional[int] = ..., raw_alpha: _Optional[float] = ..., num_spikes: _Optional[int] = ..., sigma_mp: _Optional[float] = ..., mp_softrank: _Optional[float] = ..., bulk_min: _Optional[float] = ..., bulk_max: _Optional[float] = ..., w_scale: _Optional[float] = ..., max_rand_eval: _Optional[float] = ..., rand_distance: _Optional[float] = ..., ww_softrank: _Optional[float] = ..., rand_num_spikes: _Optional[int] = ..., rand_sigma_mp: _Optional[float] = ..., rand_mp_softrank: _Optional[float] = ..., rand_bulk_max: _Optional[float] = ..., ww_maxdist: _Optional[float] = ..., num_traps: _Optional[int] = ..., rand_bulk_min: _Optional[float] = ..., rand_w_scale: _Optional[float] = ..., detx_num: _Optional[int] = ..., detx_val: _Optional[float] = ..., detx_val_unrescaled: _Optional[float] = ..., num_erg_spikes: _Optional[int] = ..., erg_gap: _Optional[float] = ..., evals: _Optional[_Iterable[float]] = ..., seconds: _Optional[float] = ..., slice_id: _Optional[int] = ..., **kwargs) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ("num_layers", "num_analyzed", "num_skipped", "num_failed", "num_under_trained", "num_over_trained", "log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm", "stable_rank", "mp_softrank", "model_name")
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    NUM_ANALYZED_FIELD_NUMBER: _ClassVar[int]
    NUM_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    NUM_FAILED_FIELD_NUMBER: _ClassVar[int]
    NUM_UNDER_TRAINED_FIELD_NUMBER: _ClassVar[int]
    NUM_OVER_TRAINED_FIELD_NUMBER: _ClassVar[int]
    LOG_NORM_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    ALPHA_WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    LOG_ALPHA_NORM_FIELD_NUMBER: _ClassVar[int]
    LOG_SPECTRAL_NORM_FIELD_NUMBER: _ClassVar[int]
    STABLE_RANK_FIELD_NUMBER: _ClassVar[int]
    MP_SOFTRANK_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    num_layers: int
    num_analyzed: int
    num_skipped: int
    num_failed: int
    num_under_trained: int
    num_over_trained: int
    log_norm: float
    alpha: float
    alpha_weighted: float
    log_alpha_norm: float
    log_spectral_norm: float
    stable_rank: float
    mp_softrank: float
    model_name: str
    def __init__(self, num_layers: _Optional[int] = ..., num_analyzed: _Optional[int] = ..., num_skipped: _Optional[int] = ..., num_failed: _Optional[int] = ..., num_under_trained: _Optional[int] = ..., num_over_trained: _Optional[int] = ..., log_norm: _Optional[float] = ..., alpha: _Optional[float] = ..., alpha_weighted: _Optional[float] = ..., log_alpha_norm: _Optional[float] = ..., log_spectral_norm: _Optional[float] = ..., stable_rank: _Optional[float] = ..., mp_softrank: _Optional[float] = ..., model_name: _Optional[str] = ...) -> None: ...

class AnalyzeResponse(_message.Message):
    __slots__ = ("plan", "layer", "summary")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    plan: ModelPlan
    layer: LayerResult
    summary: ModelSummary
    def __init__(self, plan: _Optional[_Union[ModelPlan, _Mapping]] = ..., layer: _Optional[_Union[LayerResult, _Mapping]] = ..., summary: _Optional[_Union[ModelSummary, _Mapping]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerLimits(_message.Message):
    __slots__ = ("max_layer_bytes", "queue_bytes", "max_concurrent_calls", "max_message_bytes", "max_chunk_bytes", "workers")
    MAX_LAYER_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_CALLS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    max_layer_bytes: int
    queue_bytes: int
    max_concurrent_calls: int
    max_message_bytes: int
    max_chunk_bytes: int
    workers: int
    def __init__(self, max_layer_bytes: _Optional[int] = ..., queue_bytes: _Optional[int] = ..., max_concurrent_calls: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_chunk_bytes: _Optional[int] = ..., workers: _Optional[int] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("version", "api_version", "backend", "backend_description", "limits", "auth_required", "tls", "bytes_in_use", "active_calls", "peak_bytes_in_use")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    BACKEND_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    AUTH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CALLS_FIELD_NUMBER: _ClassVar[int]
    PEAK_BYTES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    version: str
    api_version: str
    backend: str
    backend_description: str
    limits: ServerLimits
    auth_required: bool
    tls: bool
    bytes_in_use: int
    active_calls: int
    peak_bytes_in_use: int
    def __init__(self, version: _Optional[str] = ..., api_version: _Optional[str] = ..., backend: _Optional[str] = ..., backend_description: _Optional[str] = ..., limits: _Optional[_Union[ServerLimits, _Mapping]] = ..., auth_required: _Optional[bool] = ..., tls: _Optional[bool] = ..., bytes_in_use: _Optional[int] = ..., active_calls: _Optional[int] = ..., peak_bytes_in_use: _Optional[int] = ...) -> None: ...
