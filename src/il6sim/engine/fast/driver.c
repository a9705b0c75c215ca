/*
 * il6sim fast engine: a batch driver around SUNDIALS CVODE (BDF, Newton, dense LU, exact Jacobian).
 *
 * This file is appended to the generated model code (IL6_NS, IL6_NP, IL6_NO, il6_rhs, il6_jac,
 * il6_outputs; see codegen.py) and compiled into one shared library. Each patient is integrated on its own, with
 * CVODE's own step-size and order control (Hindmarsh AC et al. 2005 ACM TOMS 31:363;
 * Gardner DJ et al. 2022 ACM TOMS 48:31). The integration is split at dose times exactly like
 * the reference backend: the solver is restarted after each jump, and an output time that
 * coincides with a dose reports the post-dose state. A patient's result depends only on its own
 * inputs, never on the batch it is in.
 *
 * Return codes per patient: 0 ok, < 0 a CVODE flag (see CVodeGetReturnFlagName), and
 * IL6_BAD_INPUT for non-finite parameters or initial states.
 */
#include <math.h>
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
#define IL6_N_STATS 4

typedef struct {
    SUNContext ctx;
    void *cvode;
    N_Vector y, atol;
    SUNMatrix A;
    SUNLinearSolver LS;
    SUNMatrix newton_A;
    SUNLinearSolver newton_LS;
    N_Vector newton_x, newton_b;
    const double *p;
} il6_work;

#if SUNDIALS_VERSION_MAJOR < 7
static void il6_silent(int code, const char *module, const char *function, char *msg, void *data)
{
    (void)code; (void)module; (void)function; (void)msg; (void)data;
}
#endif

static int il6_cv_rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *user_data)
{
    il6_work *w = (il6_work *)user_data;
    double *dy = N_VGetArrayPointer(ydot);
    (void)t;
    il6_rhs(N_VGetArrayPointer(y), w->p, dy);
    for (int i = 0; i < IL6_NS; i++)
        if (!isfinite(dy[i])) return 1; /* recoverable: CVODE retries with a smaller step */
    return 0;
}

static int il6_cv_jac(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *user_data,
                      N_Vector tmp1, N_Vector tmp2, N_Vector tmp3)
{
    il6_work *w = (il6_work *)user_data;
    double *data = SUNDenseMatrix_Data(J);
    (void)t; (void)fy; (void)tmp1; (void)tmp2; (void)tmp3;
    memset(data, 0, sizeof(double) * IL6_NS * IL6_NS);
    il6_jac(N_VGetArrayPointer(y), w->p, data);
    for (int k = 0; k < IL6_NS * IL6_NS; k++)
        if (!isfinite(data[k])) return 1;
    return 0;
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
    N_VEnableFusedOps_Serial(w->y, 1); /* fused vector kernels; CVODE clones w->y */
    N_VConst(0.0, w->y);
    N_VConst(1e-12, w->atol);
#if SUNDIALS_VERSION_MAJOR < 7
    CVodeSetErrHandlerFn(w->cvode, il6_silent, NULL);
#endif
    int flag = CVodeInit(w->cvode, il6_cv_rhs, 0.0, w->y);
    flag = flag ? flag : CVodeSVtolerances(w->cvode, rtol, w->atol);
    flag = flag ? flag : CVodeSetUserData(w->cvode, w);
    flag = flag ? flag : CVodeSetLinearSolver(w->cvode, w->LS, w->A);
    flag = flag ? flag : CVodeSetJacFn(w->cvode, il6_cv_jac);
    flag = flag ? flag : CVodeSetMaxNumSteps(w->cvode, max_steps);
    flag = flag ? flag : CVodeSetMaxHnilWarns(w->cvode, -1); /* no "t + h = t" warnings */
    return flag;
}

static int il6_all_finite(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
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
 * evaluations, Jacobian evaluations, error-test failures).
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

/* Newton's method on f(x) = 0 with the exact Jacobian; 1 when the step fell below xtol. */
static int il6_newton(il6_work *w, double *x, double xtol, int max_iter)
{
    double *f = N_VGetArrayPointer(w->newton_b), *dx = N_VGetArrayPointer(w->newton_x);
    double *J = SUNDenseMatrix_Data(w->newton_A);
    for (int it = 0; it < max_iter; it++) {
        il6_rhs(x, w->p, f);
        memset(J, 0, sizeof(double) * IL6_NS * IL6_NS);
        il6_jac(x, w->p, J);
        if (!il6_all_finite(f, IL6_NS) || !il6_all_finite(J, IL6_NS * IL6_NS)) return 0;
        if (SUNLinSolSetup(w->newton_LS, w->newton_A) != 0) return 0;
        if (SUNLinSolSolve(w->newton_LS, w->newton_A, w->newton_x, w->newton_b, 0.0) != 0)
            return 0;
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
 * Rest states: relax each guess for t_relax hours (rtol, atol = max(rtol 1e-2 |guess|, 1e-12)
 * with |guess| floored at 1e-6), then polish with Newton's method. Mirrors the reference's
 * steady_state_patient: Y (n, IL6_NS) = max(y, 0), RESIDUAL (n) = max |f(y)| / max(|y|, scale_floor).
 */
int il6_equilibrate(long n, const double *P, const double *GUESS, double t_relax, double rtol,
                    long max_steps, double xtol, double scale_floor, double *Y, double *RESIDUAL,
                    int *FLAG)
{
    il6_work w;
    int flag = il6_work_init(&w, rtol, max_steps);
    double x[IL6_NS], f[IL6_NS];
    for (long i = 0; i < n; i++) {
        const double *p = P + i * IL6_NP, *g = GUESS + i * IL6_NS;
        double *y = N_VGetArrayPointer(w.y), *atol = N_VGetArrayPointer(w.atol), *out = Y + i * IL6_NS;
        double t_ret = 0.0;
        FLAG[i] = flag;
        RESIDUAL[i] = NAN;
        if (flag) continue;
        w.p = p;
        for (int s = 0; s < IL6_NS; s++) {
            y[s] = g[s];
            atol[s] = fmax(rtol * 1e-2 * fmax(fabs(g[s]), 1e-6), 1e-12);
        }
        FLAG[i] = il6_restart(&w, 0.0, t_relax, rtol);
        if (FLAG[i] == 0) {
            int cv = CVode(w.cvode, t_relax, w.y, &t_ret, CV_NORMAL);
            FLAG[i] = cv < 0 ? cv : 0;
        }
        memcpy(x, y, sizeof x);
        if (il6_newton(&w, x, xtol, 50)) {
            int accept = 1;
            for (int s = 0; s < IL6_NS; s++)
                if (x[s] < -1e-12 * fmax(1.0, fabs(y[s]))) accept = 0;
            if (accept) memcpy(y, x, sizeof x);
        }
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
    return 0;
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
    memset(J, 0, sizeof(double) * IL6_NS * IL6_NS);
    il6_jac(y, p, J);
    return 0;
}
