/*
 * il6sim fast engine: a batch driver around SUNDIALS CVODE (BDF, Newton, exact sparse Jacobian,
 * sparse LU with a pivot order fixed at code generation).
 *
 * This file is appended to the generated model code (IL6_NS, IL6_NP, IL6_NO, IL6_NNZ, il6_rhs,
 * il6_jac, il6_outputs, il6_lu_load/factor/solve; see codegen.py and sparse_lu.py) and compiled
 * into one shared library. Each patient is integrated on its own, with
 * CVODE's own step-size and order control (Hindmarsh AC et al. 2005 ACM TOMS 31:363;
 * Gardner DJ et al. 2022 ACM TOMS 48:31). The integration is split at dose times exactly like
 * the reference backend: the solver is restarted after each jump, and an output time that
 * coincides with a dose reports the post-dose state. A patient's result depends only on its own
 * inputs, never on the batch it is in.
 *
 * Return codes per patient: 0 ok, < 0 a CVODE flag (see CVodeGetReturnFlagName), and
 * IL6_BAD_INPUT for non-finite parameters or initial states.
 *
 * Linear algebra. CVODE's Newton iteration needs solves with M = I - gamma J. The driver gives
 * CVODE its own linear-system function (CVodeSetLinSysFn), which evaluates the compact sparse
 * Jacobian when CVODE asks for a new one and otherwise only records gamma, so CVODE never forms
 * or copies a dense matrix; it keeps its own decisions on when to re-evaluate J and refactor.
 * The linear solver is SUNDIALS' dense solver with its "setup" and "solve" operations replaced
 * by the generated sparse LU (il6_ls_setup, il6_ls_solve). No struct layout is assumed (the
 * layouts differ between SUNDIALS releases and the wheel ships no headers): the word of a
 * solver object that holds its operation table is found on an empty solver
 * (SUNLinSolNewEmpty: content NULL, the context last, the table the only other non-NULL
 * word), and the two slots in the dense solver's table by the addresses of
 * SUNLinSolSetup_Dense / SUNLinSolSolve_Dense (the table ends with SUNLinSolFree_Dense). If
 * anything is not found, the plain dense solver is used. A factorisation with a zero or
 * non-finite pivot, or whose first solve has a componentwise backward error above
 * IL6_LU_MAX_BACKWARD_ERROR, is replaced, for that setup only, by the dense LU with partial
 * pivoting of the same matrix (counted in the statistics).
 *
 * Vector operations. The same slot lookup gives the serial vectors CVODE clones from the
 * driver's own kernels for its seven most used operations (il6_use_vector_kernels).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef IL6_SUNDIALS_DECL
#include "sundials_decl.h" /* a SUNDIALS that ships libraries only (scikit-sundae) */
#else
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_config.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#endif

#define IL6_BAD_INPUT (-1000)
#define IL6_NO_MEMORY (-1001)
#define IL6_N_STATS 7

typedef void (*il6_fn)(void);

typedef struct {
    SUNContext ctx;
    void *cvode;
    N_Vector y, atol;
    SUNMatrix A;               /* dense; filled only for the dense path */
    SUNLinearSolver LS;        /* dense solver, setup/solve replaced when w->sparse */
    int sparse;                /* 1: sparse LU in use (slots replaced) */
    int kernels;               /* 1: the vector kernels below are in use */
    int dense_mode;            /* 1: the current factorisation is the dense fallback */
    double gamma;
    int check;                 /* 1: the next solve checks its backward error */
    long fallbacks;            /* dense fallbacks since the last statistics read */
    double jac[IL6_NNZ > 0 ? IL6_NNZ : 1];  /* the Jacobian CVODE is using */
    double m[IL6_LU_NNZ];      /* I - gamma J (or J in the Newton polish), for residuals */
    double lu[IL6_LU_NNZ];     /* its factors */
    SUNMatrix newton_A;
    SUNLinearSolver newton_LS;
    N_Vector newton_x, newton_b;
    const double *p;
} il6_work;

/* The work of the patient being integrated on this thread (read by the solver operations). */
static _Thread_local il6_work *il6_active;
/* 0: always dense LU (for comparisons); 1: sparse LU when available. */
static int il6_sparse_wanted = 1;
/* 0: SUNDIALS' own serial vector operations; 1: the kernels below when available. */
static int il6_kernels_wanted = 1;
/* Largest componentwise backward error accepted from the sparse LU (0 forces the dense
 * fallback at every setup, for tests). */
static double il6_max_backward_error = IL6_LU_MAX_BACKWARD_ERROR;

#if SUNDIALS_VERSION_MAJOR < 7
static void il6_silent(int code, const char *module, const char *function, char *msg, void *data)
{
    (void)code; (void)module; (void)function; (void)msg; (void)data;
}
#endif

/* Hot loops: with GCC on x86-64 also compiled for AVX2, the version chosen when the library is
 * loaded (function multi-versioning; other compilers build the portable version only). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define IL6_KERNEL __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef IL6_KERNEL
#define IL6_KERNEL
#endif

/* 1 when no x[i] is infinite or NaN (all exponent bits set); a branch-free loop that
 * vectorises, as it runs after every right-hand side evaluation. */
IL6_KERNEL static int il6_all_finite(const double *x, int n)
{
    uint64_t bad = 0;
    for (int i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, x + i, sizeof u);
        bad |= (~u & UINT64_C(0x7ff0000000000000)) == 0;
    }
    return !bad;
}

static int il6_cv_rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *user_data)
{
    il6_work *w = (il6_work *)user_data;
    double *dy = N_VGetArrayPointer(ydot);
    (void)t;
    il6_rhs(N_VGetArrayPointer(y), w->p, dy);
    return il6_all_finite(dy, IL6_NS) ? 0 : 1; /* 1: recoverable, CVODE retries a smaller step */
}

/* Scatter gamma-scaled J into a dense column-major matrix: M = d I + c J. */
static void il6_dense_matrix(const double *jv, double c, double d, double *M)
{
    memset(M, 0, sizeof(double) * IL6_NS * IL6_NS);
    for (int k = 0; k < IL6_NNZ; k++) M[il6_jac_col[k] * IL6_NS + il6_jac_row[k]] = c * jv[k];
    for (int i = 0; i < IL6_NS; i++) M[i * IL6_NS + i] += d;
}

/*
 * CVODE's linear-system function: a new exact Jacobian when CVODE does not trust the saved one
 * (jok false), otherwise only the new gamma. The sparse path factors in il6_ls_setup; the
 * dense path needs M = I - gamma J in A now.
 */
static int il6_cv_linsys(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix A, sunbooleantype jok,
                         sunbooleantype *jcur, sunrealtype gamma, void *user_data, N_Vector tmp1,
                         N_Vector tmp2, N_Vector tmp3)
{
    il6_work *w = (il6_work *)user_data;
    (void)t; (void)fy; (void)tmp1; (void)tmp2; (void)tmp3;
    if (!jok) {
        il6_jac(N_VGetArrayPointer(y), w->p, w->jac);
        if (!il6_all_finite(w->jac, IL6_NNZ)) return 1; /* recoverable: a smaller step */
    }
    *jcur = !jok;
    w->gamma = gamma;
    if (!w->sparse) il6_dense_matrix(w->jac, -gamma, 1.0, SUNDenseMatrix_Data(A));
    return 0;
}

/* Sparse LU of m (copied to lu); 0 on success. */
static int il6_sparse_factor(il6_work *w)
{
    memcpy(w->lu, w->m, sizeof w->lu);
    return il6_lu_factor(w->lu);
}

/* Dense LU with partial pivoting of I - gamma J in A (SUNDIALS' own dense setup). */
static int il6_dense_fallback(il6_work *w, SUNLinearSolver S, SUNMatrix A)
{
    w->fallbacks++;
    w->dense_mode = 1;
    il6_dense_matrix(w->jac, -w->gamma, 1.0, SUNDenseMatrix_Data(A));
    return SUNLinSolSetup_Dense(S, A);
}

/* LU of M = I - gamma J: the generated sparse LU, or the dense fallback. */
static int il6_ls_setup(SUNLinearSolver S, SUNMatrix A)
{
    il6_work *w = il6_active;
    il6_lu_load(w->jac, -w->gamma, 1.0, w->m);
    if (il6_sparse_factor(w) != 0) return il6_dense_fallback(w, S, A);
    w->dense_mode = 0;
    w->check = 1;
    return 0;
}

static int il6_ls_solve(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, sunrealtype tol)
{
    il6_work *w = il6_active;
    if (w->dense_mode) return SUNLinSolSolve_Dense(S, A, x, b, tol);
    double *xd = N_VGetArrayPointer(x), *bd = N_VGetArrayPointer(b), rhs[IL6_NS];
    if (w->check) memcpy(rhs, bd, sizeof rhs);
    if (xd != bd) memcpy(xd, bd, sizeof(double) * IL6_NS);
    il6_lu_solve(w->lu, xd);
    if (w->check) {
        w->check = 0;
        if (!(il6_lu_backward_error(w->m, xd, rhs) <= il6_max_backward_error)) {
            int flag = il6_dense_fallback(w, S, A);
            if (flag != 0) return flag;
            memcpy(bd, rhs, sizeof rhs);
            return SUNLinSolSolve_Dense(S, A, x, b, tol);
        }
    }
    return 0;
}

/* The word of a SUNDIALS object that points to its operation table (a struct of function
 * pointers only), found on an empty object: its content is NULL, its context is the last
 * member and the table is the one other non-NULL word. -1 if the layout is not recognised. */
static int il6_ops_word(void *empty, SUNContext ctx)
{
    void **words = (void **)empty;
    int found = -1, k;
    if (!empty) return -1;
    for (k = 0; k < 6 && words[k] != (void *)ctx; k++)
        if (words[k] != NULL) found = found == -1 ? k : -2; /* exactly one other pointer */
    return k < 6 && found >= 0 ? found : -1;
}

/*
 * In the operation table at word `word` of `object`, replace each function original[k] by
 * replacement[k] (k < count). The slots are found by the originals' addresses, scanning up to
 * the slot holding `end` (the table's last operation, set in the object). Nothing is changed
 * unless every original and `end` are found. Returns 1 when replaced.
 */
static int il6_patch_ops(void *object, int word, il6_fn end, const il6_fn *original,
                         const il6_fn *replacement, int count)
{
    int slot[8], last = -1;
    if (word < 0 || count > 8) return 0;
    il6_fn *ops = ((il6_fn **)object)[word];
    if (!ops) return 0;
    for (int k = 0; k < count; k++) slot[k] = -1;
    for (int i = 0; i < 96 && last < 0; i++) {
        if (ops[i] == end) last = i;
        for (int k = 0; k < count; k++)
            if (ops[i] == original[k]) slot[k] = i;
    }
    if (last < 0) return 0;
    for (int k = 0; k < count; k++)
        if (slot[k] < 0) return 0;
    for (int k = 0; k < count; k++) ops[slot[k]] = replacement[k];
    return 1;
}

/* Replace the setup and solve operations of the dense solver w->LS by the sparse ones. */
static int il6_use_sparse_lu(il6_work *w)
{
    SUNLinearSolver empty = SUNLinSolNewEmpty(w->ctx);
    int word = il6_ops_word(empty, w->ctx);
    if (empty) SUNLinSolFreeEmpty(empty);
    const il6_fn original[2] = {(il6_fn)SUNLinSolSetup_Dense, (il6_fn)SUNLinSolSolve_Dense};
    const il6_fn replacement[2] = {(il6_fn)il6_ls_setup, (il6_fn)il6_ls_solve};
    return il6_patch_ops(w->LS, word, (il6_fn)SUNLinSolFree_Dense, original, replacement, 2);
}

/*
 * Vector kernels for CVODE's state-length vectors (IL6_NS doubles, a compile-time constant):
 * the operations that took most of CVODE's own time (linear sums of the Nordsieck history,
 * scalings, weighted RMS norms, fused multi-vector updates), as plain loops the compiler can
 * unroll and vectorise; on x86-64 each also exists in an AVX2 version chosen at load time.
 * Same formulas as SUNDIALS' serial vectors (element by element, so an output may alias an
 * input); sums are accumulated in index order.
 */

/* Kernels on distinct arrays (restrict: no overlap checks, so they vectorise) and in place. */
IL6_KERNEL static void il6_axpby(double a, const double *restrict x, double b,
                                 const double *restrict y, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] = a * x[i] + b * y[i];
}

IL6_KERNEL static void il6_axpby_self(double a, double *restrict z, double b,
                                      const double *restrict y)
{
    for (int i = 0; i < IL6_NS; i++) z[i] = a * z[i] + b * y[i];
}

IL6_KERNEL static void il6_ax(double a, const double *restrict x, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] = a * x[i];
}

IL6_KERNEL static void il6_ax_self(double a, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] *= a;
}

IL6_KERNEL static void il6_add_ax(double a, const double *restrict x, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] += a * x[i];
}

/* Sum of (x w)^2 in four interleaved partial sums (element i into sum i mod 4), so the additions
 * do not wait on each other: the same value on every machine, within rounding of the
 * one-by-one sum. */
IL6_KERNEL static double il6_wsqrsum(const double *restrict x, const double *restrict w)
{
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    int i = 0;
    for (; i + 4 <= IL6_NS; i += 4)
        for (int k = 0; k < 4; k++) {
            double v = x[i + k] * w[i + k];
            sum[k] += v * v;
        }
    for (; i < IL6_NS; i++) {
        double v = x[i] * w[i];
        sum[i % 4] += v * v;
    }
    return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

IL6_KERNEL static void il6_inv(const double *restrict x, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] = 1.0 / x[i];
}

IL6_KERNEL static void il6_abs(const double *restrict x, double *restrict z)
{
    for (int i = 0; i < IL6_NS; i++) z[i] = fabs(x[i]);
}

/* z = a x + b y, z possibly x or y. */
static void il6_linear_sum(double a, const double *x, double b, const double *y, double *z)
{
    if (z == x && z == y) il6_ax_self(a + b, z); /* (a + b) z: as a z + b z up to rounding */
    else if (z == x) il6_axpby_self(a, z, b, y);
    else if (z == y) il6_axpby_self(b, z, a, x);
    else il6_axpby(a, x, b, y, z);
}

static void il6_nv_linearsum(sunrealtype a, N_Vector x, sunrealtype b, N_Vector y, N_Vector z)
{
    il6_linear_sum(a, N_VGetArrayPointer(x), b, N_VGetArrayPointer(y), N_VGetArrayPointer(z));
}

static void il6_nv_scale(sunrealtype c, N_Vector x, N_Vector z)
{
    double *xd = N_VGetArrayPointer(x), *zd = N_VGetArrayPointer(z);
    if (xd == zd) il6_ax_self(c, zd);
    else il6_ax(c, xd, zd);
}

static sunrealtype il6_nv_wrmsnorm(N_Vector x, N_Vector w)
{
    return sqrt(il6_wsqrsum(N_VGetArrayPointer(x), N_VGetArrayPointer(w)) / IL6_NS);
}

static void il6_nv_inv(N_Vector x, N_Vector z)
{
    double *xd = N_VGetArrayPointer(x), *zd = N_VGetArrayPointer(z), tmp[IL6_NS];
    if (xd == zd) {
        il6_inv(xd, tmp);
        memcpy(zd, tmp, sizeof tmp);
    } else {
        il6_inv(xd, zd);
    }
}

static void il6_nv_abs(N_Vector x, N_Vector z)
{
    double *xd = N_VGetArrayPointer(x), *zd = N_VGetArrayPointer(z), tmp[IL6_NS];
    if (xd == zd) {
        il6_abs(xd, tmp);
        memcpy(zd, tmp, sizeof tmp);
    } else {
        il6_abs(xd, zd);
    }
}

static int il6_nv_scaleaddmulti(int nvec, sunrealtype *a, N_Vector x, N_Vector *Y, N_Vector *Z)
{
    const double *xd = N_VGetArrayPointer(x);
    for (int j = 0; j < nvec; j++)
        il6_linear_sum(a[j], xd, 1.0, N_VGetArrayPointer(Y[j]), N_VGetArrayPointer(Z[j]));
    return 0;
}

static int il6_nv_linearcombination(int nvec, sunrealtype *c, N_Vector *X, N_Vector z)
{
    double sum[IL6_NS]; /* z may be any of the X[j] */
    il6_ax(c[0], N_VGetArrayPointer(X[0]), sum);
    for (int j = 1; j < nvec; j++) il6_add_ax(c[j], N_VGetArrayPointer(X[j]), sum);
    memcpy(N_VGetArrayPointer(z), sum, sizeof sum);
    return 0;
}

/* Give the serial vector v (length IL6_NS, fused operations enabled) the kernels above;
 * CVODE's own vectors are clones of it and copy its operation table. */
static int il6_use_vector_kernels(N_Vector v, SUNContext ctx)
{
    N_Vector empty = N_VNewEmpty(ctx);
    int word = il6_ops_word(empty, ctx);
    if (empty) N_VFreeEmpty(empty);
    const il6_fn original[7] = {
        (il6_fn)N_VLinearSum_Serial, (il6_fn)N_VScale_Serial, (il6_fn)N_VWrmsNorm_Serial,
        (il6_fn)N_VScaleAddMulti_Serial, (il6_fn)N_VLinearCombination_Serial,
        (il6_fn)N_VInv_Serial, (il6_fn)N_VAbs_Serial};
    const il6_fn replacement[7] = {
        (il6_fn)il6_nv_linearsum, (il6_fn)il6_nv_scale, (il6_fn)il6_nv_wrmsnorm,
        (il6_fn)il6_nv_scaleaddmulti, (il6_fn)il6_nv_linearcombination, (il6_fn)il6_nv_inv,
        (il6_fn)il6_nv_abs};
    return il6_patch_ops(v, word, (il6_fn)N_VPrintFile_Serial, original, replacement, 7);
}

static void il6_work_free(il6_work *w)
{
    if (w->cvode) CVodeFree(&w->cvode);
    if (w->LS) SUNLinSolFree(w->LS);
    if (w->A) SUNMatDestroy(w->A);
    if (w->newton_LS) SUNLinSolFree(w->newton_LS);
    if (w->newton_A) SUNMatDestroy(w->newton_A);
    if (w->y) N_VDestroy(w->y);
    if (w->atol) N_VDestroy(w->atol);
    if (w->newton_x) N_VDestroy(w->newton_x);
    if (w->newton_b) N_VDestroy(w->newton_b);
    if (w->ctx) SUNContext_Free(&w->ctx);
}

static int il6_work_init(il6_work *w, double rtol, long max_steps)
{
    memset(w, 0, sizeof(*w));
#if SUNDIALS_VERSION_MAJOR >= 7
    if (SUNContext_Create(SUN_COMM_NULL, &w->ctx)) return IL6_NO_MEMORY;
    SUNContext_ClearErrHandlers(w->ctx); /* failures are reported per patient, not printed */
#else
    if (SUNContext_Create(NULL, &w->ctx)) return IL6_NO_MEMORY;
#endif
    w->y = N_VNew_Serial(IL6_NS, w->ctx);
    w->atol = N_VNew_Serial(IL6_NS, w->ctx);
    w->newton_x = N_VNew_Serial(IL6_NS, w->ctx);
    w->newton_b = N_VNew_Serial(IL6_NS, w->ctx);
    w->A = SUNDenseMatrix(IL6_NS, IL6_NS, w->ctx);
    w->newton_A = SUNDenseMatrix(IL6_NS, IL6_NS, w->ctx);
    w->cvode = CVodeCreate(CV_BDF, w->ctx);
    if (!w->y || !w->atol || !w->newton_x || !w->newton_b || !w->A || !w->newton_A || !w->cvode)
        return IL6_NO_MEMORY;
    w->LS = SUNLinSol_Dense(w->y, w->A, w->ctx);
    w->newton_LS = SUNLinSol_Dense(w->newton_x, w->newton_A, w->ctx);
    if (!w->LS || !w->newton_LS) return IL6_NO_MEMORY;
    w->sparse = il6_sparse_wanted && il6_use_sparse_lu(w);
    il6_active = w;
    N_VEnableFusedOps_Serial(w->y, 1); /* fused vector kernels; CVODE clones w->y */
    N_VEnableFusedOps_Serial(w->atol, 1);
    if (il6_kernels_wanted) {
        w->kernels = il6_use_vector_kernels(w->y, w->ctx);
        w->kernels = il6_use_vector_kernels(w->atol, w->ctx) && w->kernels;
    }
    N_VConst(0.0, w->y);
    N_VConst(1e-12, w->atol);
#if SUNDIALS_VERSION_MAJOR < 7
    CVodeSetErrHandlerFn(w->cvode, il6_silent, NULL);
#endif
    int flag = CVodeInit(w->cvode, il6_cv_rhs, 0.0, w->y);
    flag = flag ? flag : CVodeSVtolerances(w->cvode, rtol, w->atol);
    flag = flag ? flag : CVodeSetUserData(w->cvode, w);
    flag = flag ? flag : CVodeSetLinearSolver(w->cvode, w->LS, w->A);
    flag = flag ? flag : CVodeSetLinSysFn(w->cvode, il6_cv_linsys);
    flag = flag ? flag : CVodeSetMaxNumSteps(w->cvode, max_steps);
    flag = flag ? flag : CVodeSetMaxHnilWarns(w->cvode, -1); /* no "t + h = t" warnings */
    return flag;
}

/* Restart CVODE at (t, y) with per-state absolute tolerances, integrating towards stop. */
static int il6_restart(il6_work *w, double t, double stop, double rtol)
{
    int flag = CVodeReInit(w->cvode, t, w->y);
    flag = flag ? flag : CVodeSVtolerances(w->cvode, rtol, w->atol);
    flag = flag ? flag : CVodeSetStopTime(w->cvode, stop);
    return flag;
}

static void il6_add_stats(il6_work *w, double *stats)
{
    long v;
    if (CVodeGetNumSteps(w->cvode, &v) == 0) stats[0] += v;
    if (CVodeGetNumRhsEvals(w->cvode, &v) == 0) stats[1] += v;
    if (CVodeGetNumJacEvals(w->cvode, &v) == 0) stats[2] += v;
    if (CVodeGetNumErrTestFails(w->cvode, &v) == 0) stats[3] += v;
    if (CVodeGetNumLinSolvSetups(w->cvode, &v) == 0) stats[4] += v;
    stats[5] += w->fallbacks;
    if (CVodeGetNumNonlinSolvConvFails(w->cvode, &v) == 0) stats[6] += v;
    w->fallbacks = 0;
}

/*
 * One patient: states at the n_t output times te (increasing), with n_j jumps (jt increasing,
 * t0 <= jt < t_end) adding jd to state ji. Returns 0 or a negative code; *t_fail is where it
 * stopped.
 */
static int il6_patient(il6_work *w, const double *p, const double *y0, const double *atol,
                       long n_t, const double *te, long n_j, const double *jt, const long *ji,
                       const double *jd, double rtol, double *out, double *outo, double *t_fail,
                       double *stats)
{
    double *y = N_VGetArrayPointer(w->y);
    double t = te[0], t_end = te[n_t - 1], t_ret = te[0];
    long k = 0, o = 0;
    int flag = 0;
    *t_fail = t;
    if (!il6_all_finite(p, IL6_NP) || !il6_all_finite(y0, IL6_NS)) return IL6_BAD_INPUT;
    w->p = p;
    w->fallbacks = 0;
    memcpy(y, y0, sizeof(double) * IL6_NS);
    memcpy(N_VGetArrayPointer(w->atol), atol, sizeof(double) * IL6_NS);
    for (; k < n_j && jt[k] <= t; k++) y[ji[k]] += jd[k];
    for (;;) {
        int last = !(k < n_j && jt[k] < t_end);
        double stop = last ? t_end : jt[k];
        if (stop > t && (flag = il6_restart(w, t, stop, rtol)) != 0) break;
        t_ret = t;
        /* an output at a dose time belongs to the segment after the dose (post-dose value) */
        for (; o < n_t && (te[o] < stop || (last && te[o] <= stop)); o++) {
            if (te[o] > t_ret && (flag = CVode(w->cvode, te[o], w->y, &t_ret, CV_NORMAL)) < 0)
                break;
            memcpy(out + o * IL6_NS, y, sizeof(double) * IL6_NS);
            if (outo) il6_outputs(y, p, outo + o * IL6_NO);
        }
        if (flag >= 0 && !last && t_ret < stop)
            flag = CVode(w->cvode, stop, w->y, &t_ret, CV_NORMAL);
        if (stop > t) il6_add_stats(w, stats);
        if (flag < 0 || last) break;
        t = stop;
        for (; k < n_j && jt[k] <= t; k++) y[ji[k]] += jd[k];
    }
    *t_fail = t_ret;
    return flag < 0 ? flag : 0;
}

/*
 * Simulate patients [0, n): P (n, IL6_NP), Y0 and ATOL (n, IL6_NS), jumps in CSR form
 * (jump_ptr has n + 1 entries). Writes OUT (n, n_t, IL6_NS), the read-outs OUTO (n, n_t,
 * IL6_NO; skipped when NULL), FLAG (n), T_FAIL (n) and STATS (n, IL6_N_STATS: steps, rhs
 * evaluations, Jacobian evaluations, error-test failures, LU factorisations, dense fallbacks,
 * Newton convergence failures).
 */
int il6_simulate(long n, const double *P, const double *Y0, const double *ATOL, long n_t,
                 const double *te, const long *jump_ptr, const double *jt, const long *ji,
                 const double *jd, double rtol, long max_steps, double *OUT, double *OUTO,
                 int *FLAG, double *T_FAIL, double *STATS)
{
    il6_work w;
    int flag = il6_work_init(&w, rtol, max_steps);
    for (long i = 0; i < n; i++) {
        long a = jump_ptr[i], b = jump_ptr[i + 1];
        memset(STATS + i * IL6_N_STATS, 0, sizeof(double) * IL6_N_STATS);
        FLAG[i] = flag ? flag
                       : il6_patient(&w, P + i * IL6_NP, Y0 + i * IL6_NS, ATOL + i * IL6_NS, n_t,
                                     te, b - a, jt + a, ji + a, jd + a, rtol,
                                     OUT + i * n_t * IL6_NS, OUTO ? OUTO + i * n_t * IL6_NO : NULL,
                                     T_FAIL + i, STATS + i * IL6_N_STATS);
    }
    il6_work_free(&w);
    return flag;
}

/* One Newton step dx = J^-1 f at x: sparse LU, or dense LU when the sparse one fails. */
static int il6_newton_step(il6_work *w, const double *x, double *f, double *dx)
{
    il6_rhs(x, w->p, f);
    il6_jac(x, w->p, w->jac);
    if (!il6_all_finite(f, IL6_NS) || !il6_all_finite(w->jac, IL6_NNZ)) return 0;
    il6_lu_load(w->jac, 1.0, 0.0, w->m);
    if (il6_sparse_wanted && il6_sparse_factor(w) == 0) {
        memcpy(dx, f, sizeof(double) * IL6_NS);
        il6_lu_solve(w->lu, dx);
        if (il6_lu_backward_error(w->m, dx, f) <= il6_max_backward_error) return 1;
    }
    il6_dense_matrix(w->jac, 1.0, 0.0, SUNDenseMatrix_Data(w->newton_A));
    if (SUNLinSolSetup(w->newton_LS, w->newton_A) != 0) return 0;
    return SUNLinSolSolve(w->newton_LS, w->newton_A, w->newton_x, w->newton_b, 0.0) == 0;
}

/* Newton's method on f(x) = 0 with the exact Jacobian; 1 when the step fell below xtol. */
static int il6_newton(il6_work *w, double *x, double xtol, int max_iter)
{
    double *f = N_VGetArrayPointer(w->newton_b), *dx = N_VGetArrayPointer(w->newton_x);
    for (int it = 0; it < max_iter; it++) {
        if (!il6_newton_step(w, x, f, dx)) return 0;
        double step = 0.0, size = 0.0;
        for (int i = 0; i < IL6_NS; i++) {
            x[i] -= dx[i];
            step += dx[i] * dx[i];
            size += x[i] * x[i];
        }
        if (!il6_all_finite(x, IL6_NS)) return 0;
        if (sqrt(step) <= xtol * sqrt(size)) return 1;
    }
    return 0;
}

/*
 * Relax the guess g for t_relax hours (rtol, atol = max(rtol 1e-2 |g|, 1e-12) with |g| floored
 * at 1e-6), then polish with Newton's method, keeping the polished state only if it is
 * non-negative; the result is in w->y. Returns the CVODE flag (0 ok); *moved is the largest
 * change Newton made, relative to max(|state|, scale_floor) (infinite when not kept).
 */
static int il6_relax_polish(il6_work *w, const double *g, double t_relax, double rtol,
                            double xtol, double scale_floor, double *moved)
{
    double *y = N_VGetArrayPointer(w->y), *atol = N_VGetArrayPointer(w->atol);
    double x[IL6_NS], t_ret = 0.0;
    int flag;
    for (int s = 0; s < IL6_NS; s++) {
        y[s] = g[s];
        atol[s] = fmax(rtol * 1e-2 * fmax(fabs(g[s]), 1e-6), 1e-12);
    }
    flag = il6_restart(w, 0.0, t_relax, rtol);
    if (flag == 0) {
        int cv = CVode(w->cvode, t_relax, w->y, &t_ret, CV_NORMAL);
        flag = cv < 0 ? cv : 0;
    }
    *moved = INFINITY;
    memcpy(x, y, sizeof x);
    if (il6_newton(w, x, xtol, 50)) {
        double change = 0.0;
        for (int s = 0; s < IL6_NS; s++) {
            if (x[s] < -1e-12 * fmax(1.0, fabs(y[s]))) return flag;
            change = fmax(change, fabs(x[s] - y[s]) / fmax(fabs(x[s]), scale_floor));
        }
        memcpy(y, x, sizeof x);
        *moved = change;
    }
    return flag;
}

/*
 * Rest states, as the reference's steady_state_patient: relax each guess for t_relax hours at
 * rtol and polish with Newton's method. Y (n, IL6_NS) = max(y, 0), RESIDUAL (n) = max |f(y)| /
 * max(|y|, scale_floor), MODE (n; may be NULL) = 0 or 1 as below.
 *
 * Shortcut (rtol_first > rtol): relax at the looser rtol_first first; its Newton-polished state
 * is kept (MODE 0) when Newton moved no state by more than settled (relative), i.e. the
 * relaxation had come to rest there and Newton only removed the integration error. Otherwise
 * (still moving, oscillating, or Newton failed) the patient is relaxed again from its guess at
 * rtol, exactly as without the shortcut (MODE 1).
 */
int il6_equilibrate(long n, const double *P, const double *GUESS, double t_relax, double rtol,
                    double rtol_first, double settled, long max_steps, double xtol,
                    double scale_floor, double *Y, double *RESIDUAL, int *FLAG, int *MODE)
{
    il6_work w;
    int flag = il6_work_init(&w, rtol, max_steps);
    double f[IL6_NS], moved;
    for (long i = 0; i < n; i++) {
        const double *p = P + i * IL6_NP, *g = GUESS + i * IL6_NS;
        double *y = N_VGetArrayPointer(w.y), *out = Y + i * IL6_NS;
        int mode = 1;
        FLAG[i] = flag;
        RESIDUAL[i] = NAN;
        if (MODE) MODE[i] = -1;
        if (flag) continue;
        w.p = p;
        if (rtol_first > rtol) {
            FLAG[i] = il6_relax_polish(&w, g, t_relax, rtol_first, xtol, scale_floor, &moved);
            mode = !(FLAG[i] == 0 && moved <= settled);
        }
        if (mode) FLAG[i] = il6_relax_polish(&w, g, t_relax, rtol, xtol, scale_floor, &moved);
        if (MODE) MODE[i] = mode;
        il6_rhs(y, p, f);
        double residual = 0.0;
        for (int s = 0; s < IL6_NS; s++) {
            double r = fabs(f[s]) / fmax(fabs(y[s]), scale_floor);
            residual = (r > residual || isnan(r)) ? r : residual;
            out[s] = fmax(y[s], 0.0);
            if (isnan(y[s])) out[s] = NAN;
        }
        RESIDUAL[i] = residual;
    }
    il6_work_free(&w);
    return flag;
}

int il6_sizes(int *sizes)
{
    sizes[0] = IL6_NS;
    sizes[1] = IL6_NP;
    sizes[2] = IL6_N_STATS;
    sizes[3] = SUNDIALS_VERSION_MAJOR;
    sizes[4] = IL6_NO;
    sizes[5] = IL6_LU_NNZ;
    return 0;
}

/* Choose, for solvers created later, the linear solver (sparse: 1 generated sparse LU, the
 * default; 0 SUNDIALS' dense LU), the vector operations (kernels: 1 the kernels above, the
 * default; 0 SUNDIALS' serial ones) and the largest backward error accepted from the sparse LU
 * (max_backward_error < 0: the default IL6_LU_MAX_BACKWARD_ERROR), e.g. for comparisons and
 * tests. Returns what a solver created now uses: bit 0 sparse LU, bit 1 vector kernels (0 also
 * when the SUNDIALS operations could not be located in this build). */
int il6_configure(int sparse, int kernels, double max_backward_error)
{
    il6_work w;
    il6_sparse_wanted = sparse != 0;
    il6_kernels_wanted = kernels != 0;
    il6_max_backward_error = max_backward_error < 0 ? IL6_LU_MAX_BACKWARD_ERROR
                                                    : max_backward_error;
    int flag = il6_work_init(&w, 1e-6, 10);
    int result = flag == 0 ? (w.sparse ? 1 : 0) | (w.kernels ? 2 : 0) : 0;
    il6_work_free(&w);
    return result;
}

/* The generated functions, exported for checks against the model's own (sympy) evaluation. */
int il6_eval_rhs(const double *y, const double *p, double *dy)
{
    il6_rhs(y, p, dy);
    return 0;
}

int il6_eval_outputs(const double *y, const double *p, double *o)
{
    il6_outputs(y, p, o);
    return 0;
}

int il6_eval_jac(const double *y, const double *p, double *J)
{
    double jv[IL6_NNZ > 0 ? IL6_NNZ : 1];
    il6_jac(y, p, jv);
    il6_dense_matrix(jv, 1.0, 0.0, J);
    return 0;
}

/* x = (d I + c J(y))^-1 b with the generated sparse LU; *omega its componentwise backward
 * error. Returns 1 when a pivot is zero or not finite. */
int il6_eval_lu_solve(const double *y, const double *p, double c, double d, const double *b,
                      double *x, double *omega)
{
    double jv[IL6_NNZ > 0 ? IL6_NNZ : 1], m[IL6_LU_NNZ], a[IL6_LU_NNZ];
    il6_jac(y, p, jv);
    il6_lu_load(jv, c, d, m);
    memcpy(a, m, sizeof a);
    if (il6_lu_factor(a)) return 1;
    memcpy(x, b, sizeof(double) * IL6_NS);
    il6_lu_solve(a, x);
    *omega = il6_lu_backward_error(m, x, b);
    return 0;
}
