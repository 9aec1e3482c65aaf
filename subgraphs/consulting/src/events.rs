//! What the consulting subgraph publishes on `consulting`: a request was
//! made, the advice so far while it is written, and how it ended. The
//! dashboard keeps them and feeds its `consultingResult` subscription from
//! them; the payloads are shared with it in `salesync_common::consulting`.

pub use salesync_common::consulting::{
    CONSULTING_COMPLETED, CONSULTING_FAILED, CONSULTING_PROGRESS, CONSULTING_REQUESTED,
    ConsultingCompleted, ConsultingFailed, ConsultingProgress, ConsultingRequested,
};
