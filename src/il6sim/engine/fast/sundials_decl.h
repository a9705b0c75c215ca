/*
 * Declarations of the part of the SUNDIALS >= 7 C API that driver.c uses, for SUNDIALS builds
 * that ship shared libraries without headers (the scikit-sundae wheel bundles SUNDIALS 7).
 * Only opaque handles, ints, doubles and pointers cross this interface; sunindextype is given
 * by the build (IL6_SUNINDEXTYPE, read from the wheel's own configuration).
 * API: Gardner DJ et al. 2022 ACM TOMS 48:31; Hindmarsh AC et al. 2005 ACM TOMS 31:363.
 */
#ifndef IL6_SUNDIALS_DECL_H
#define IL6_SUNDIALS_DECL_H

#ifndef IL6_SUNINDEXTYPE
#define IL6_SUNINDEXTYPE int
#endif
#define SUNDIALS_VERSION_MAJOR IL6_SUNDIALS_MAJOR

typedef double sunrealtype;
typedef IL6_SUNINDEXTYPE sunindextype;
typedef int sunbooleantype;
typedef int SUNComm;
#define SUN_COMM_NULL 0
#define CV_BDF 2
#define CV_NORMAL 1

typedef struct _SUNContext *SUNContext;
typedef struct _generic_N_Vector *N_Vector;
typedef struct _generic_SUNMatrix *SUNMatrix;
typedef struct _generic_SUNLinearSolver *SUNLinearSolver;
typedef int (*CVRhsFn)(sunrealtype t, N_Vector y, N_Vector ydot, void *user_data);
typedef int (*CVLsJacFn)(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix Jac, void *user_data,
                         N_Vector tmp1, N_Vector tmp2, N_Vector tmp3);
typedef int (*CVLsLinSysFn)(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix A,
                            sunbooleantype jok, sunbooleantype *jcur, sunrealtype gamma,
                            void *user_data, N_Vector tmp1, N_Vector tmp2, N_Vector tmp3);

int SUNContext_Create(SUNComm comm, SUNContext *ctx);
int SUNContext_Free(SUNContext *ctx);
int SUNContext_ClearErrHandlers(SUNContext ctx);

N_Vector N_VNew_Serial(sunindextype length, SUNContext ctx);
void N_VDestroy(N_Vector v);
sunrealtype *N_VGetArrayPointer(N_Vector v);
void N_VConst(sunrealtype c, N_Vector z);
int N_VEnableFusedOps_Serial(N_Vector v, int tf);
N_Vector N_VNewEmpty(SUNContext ctx);
void N_VFreeEmpty(N_Vector v);
void N_VLinearSum_Serial(sunrealtype a, N_Vector x, sunrealtype b, N_Vector y, N_Vector z);
void N_VScale_Serial(sunrealtype c, N_Vector x, N_Vector z);
sunrealtype N_VWrmsNorm_Serial(N_Vector x, N_Vector w);
int N_VScaleAddMulti_Serial(int nvec, sunrealtype *a, N_Vector x, N_Vector *Y, N_Vector *Z);
int N_VLinearCombination_Serial(int nvec, sunrealtype *c, N_Vector *X, N_Vector z);
void N_VInv_Serial(N_Vector x, N_Vector z);
void N_VAbs_Serial(N_Vector x, N_Vector z);
void N_VPrintFile_Serial(N_Vector v, void *outfile);

SUNMatrix SUNDenseMatrix(sunindextype M, sunindextype N, SUNContext ctx);
sunrealtype *SUNDenseMatrix_Data(SUNMatrix A);
void SUNMatDestroy(SUNMatrix A);

SUNLinearSolver SUNLinSol_Dense(N_Vector y, SUNMatrix A, SUNContext ctx);
SUNLinearSolver SUNLinSolNewEmpty(SUNContext ctx);
void SUNLinSolFreeEmpty(SUNLinearSolver S);
int SUNLinSolSetup(SUNLinearSolver S, SUNMatrix A);
int SUNLinSolSolve(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, sunrealtype tol);
int SUNLinSolFree(SUNLinearSolver S);
int SUNLinSolSetup_Dense(SUNLinearSolver S, SUNMatrix A);
int SUNLinSolSolve_Dense(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, sunrealtype tol);
int SUNLinSolFree_Dense(SUNLinearSolver S);

void *CVodeCreate(int lmm, SUNContext ctx);
int CVodeInit(void *mem, CVRhsFn f, sunrealtype t0, N_Vector y0);
int CVodeReInit(void *mem, sunrealtype t0, N_Vector y0);
int CVodeSVtolerances(void *mem, sunrealtype rtol, N_Vector atol);
int CVodeSetUserData(void *mem, void *user_data);
int CVodeSetLinearSolver(void *mem, SUNLinearSolver LS, SUNMatrix A);
int CVodeSetJacFn(void *mem, CVLsJacFn jac);
int CVodeSetLinSysFn(void *mem, CVLsLinSysFn linsys);
int CVodeSetMaxNumSteps(void *mem, long int mxsteps);
int CVodeSetStopTime(void *mem, sunrealtype tstop);
int CVodeSetMaxHnilWarns(void *mem, int mxhnil);
int CVode(void *mem, sunrealtype tout, N_Vector yout, sunrealtype *tret, int itask);
int CVodeGetNumSteps(void *mem, long int *nsteps);
int CVodeGetNumRhsEvals(void *mem, long int *nfevals);
int CVodeGetNumJacEvals(void *mem, long int *njevals);
int CVodeGetNumErrTestFails(void *mem, long int *netfails);
int CVodeGetNumLinSolvSetups(void *mem, long int *nlinsetups);
int CVodeGetNumNonlinSolvConvFails(void *mem, long int *nncfails);
void CVodeFree(void **mem);

#endif
